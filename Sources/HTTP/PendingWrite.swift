/// A response the socket has not wholly taken (backpressure): its head and
/// body arrays (shared with the encoder, not copied), how many bytes of the
/// two, in order, the socket has taken, and the exchange to report once it
/// has taken them all. While one exists the connection neither reads nor
/// parses. Pure bookkeeping: the connection does the `sendmsg`.
struct PendingWrite {
    let head: [UInt8]
    let body: [UInt8]
    /// Bytes of `head` then `body` already written.
    private(set) var offset: Int
    /// Reported once the last byte is written (nil for `100 Continue`).
    var exchange: Exchange?

    init(head: [UInt8], body: [UInt8], written offset: Int, exchange: Exchange?) {
        self.head = head
        self.body = body
        self.offset = offset
        self.exchange = exchange
    }

    /// Head and body bytes in all.
    var total: Int { head.count + body.count }
    /// The socket has taken every byte.
    var isComplete: Bool { offset == total }

    /// The socket took `count` more bytes.
    mutating func advance(by count: Int) {
        offset += count
    }

    /// What is left of `head` and then `body` from byte `offset` of the two,
    /// for one vectored write: an empty head part once the head is written.
    static func unsent(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer,
                       from offset: Int) -> (head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) {
        let headPart = offset < head.count ? UnsafeRawBufferPointer(rebasing: head[offset...]) : UnsafeRawBufferPointer(start: nil, count: 0)
        let bodyPart = UnsafeRawBufferPointer(rebasing: body[max(0, offset - head.count)...])
        return (headPart, bodyPart)
    }
}
