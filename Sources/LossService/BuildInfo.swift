/// What was built: the one place lossd's version is written, and the git
/// commit it was built from. `lossd --version`, the `lossd_build_info`
/// metric and the start-up log line read these; a test checks that
/// `openapi.yaml`'s `info.version` is the same version.
public enum BuildInfo {
    /// lossd's version (semantic versioning; the API contract's version).
    public static let version = "1.3.0"

    /// The short git commit built (Plugins/RevisionPlugin), or `unknown` when
    /// built without a git checkout and without `LOSSD_REVISION`.
    public static let revision = BuildRevision.value

    /// `1.3.0 (revision abc1234)`, as `lossd --version` prints it.
    public static var description: String { "\(version) (revision \(revision))" }
}
