import Foundation
import PackagePlugin

/// Writes `BuildRevision.swift` (`enum BuildRevision { static let value }`)
/// into the target before every build: the short git commit of the package,
/// so `lossd --version`, `lossd_build_info` and the start-up log name the
/// commit that was built.
///
/// A prebuild command rather than a value computed in Package.swift: SwiftPM
/// caches the manifest's evaluation, so a commit made since would not change
/// it (a stale revision is a wrong answer), while a prebuild command runs on
/// every build. The file is rewritten only when its text changes, so an
/// unchanged commit recompiles nothing.
///
/// Where there is no git checkout of this package (the Dockerfile's build
/// context has no `.git`), the revision is `LOSSD_REVISION` if set (`docker
/// build --build-arg LOSSD_REVISION=$(git rev-parse --short HEAD)`), else
/// `unknown`: never a build failure, never another repository's commit.
@main
struct RevisionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Revision")
        var environment: [String: String] = [:]
        if let revision = ProcessInfo.processInfo.environment["LOSSD_REVISION"] {
            environment["LOSSD_REVISION"] = revision
        }
        return [
            .prebuildCommand(
                displayName: "Writing the git revision of \(context.package.displayName)",
                executable: URL(filePath: "/bin/sh"),
                arguments: ["-c", RevisionPlugin.script, "revision",
                            context.package.directoryURL.path, output.appending(path: "BuildRevision.swift").path],
                environment: environment,
                outputFilesDirectory: output)
        ]
    }

    /// `sh -c script revision PACKAGE_DIR OUTPUT_FILE`. The package directory
    /// must be the top of the git work tree (else a package vendored inside
    /// another repository would report that repository's commit).
    static let script = #"""
        package=$1 out=$2
        revision=$(printf '%s' "${LOSSD_REVISION:-}" | tr -cd '0-9A-Za-z._+-' | cut -c1-40)
        if [ -z "$revision" ] && top=$(git -C "$package" rev-parse --show-toplevel 2>/dev/null) \
            && [ "$(cd "$top" && pwd -P)" = "$(cd "$package" && pwd -P)" ]; then
            revision=$(git -C "$package" rev-parse --short HEAD 2>/dev/null) || revision=
        fi
        [ -n "$revision" ] || revision=unknown
        text="// Generated before each build by Plugins/RevisionPlugin: do not edit.
        enum BuildRevision { static let value = \"$revision\" }"
        mkdir -p "$(dirname "$out")"
        if [ "$(cat "$out" 2>/dev/null)" != "$text" ]; then printf '%s\n' "$text" > "$out"; fi
        """#
}
