/// A request the server must refuse: the status and a detail a client can act on.
///
/// The request parser and the chunked decoder throw or return it; after any
/// `HTTPError` from them the server answers with a problem document
/// (`Problem(status:detail:)`) and closes the connection, because the framing
/// of whatever follows on the connection can no longer be trusted.
struct HTTPError: Error, Equatable, Sendable {
    var status: Status
    var detail: String

    init(_ status: Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }

    init(status: Status, detail: String) {
        self.status = status
        self.detail = detail
    }
}
