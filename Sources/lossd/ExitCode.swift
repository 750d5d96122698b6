/// An exit status thrown to end lossd quietly: what went wrong was already
/// said (logged, or written to standard error) where it happened.
struct ExitCode: Error {
    var status: Int32

    /// 1: lossd could not do what it was asked (start serving, pass a healthcheck).
    static let failure = ExitCode(status: 1)
}
