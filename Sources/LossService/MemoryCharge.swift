import TensorJSON

/// What one request holds of the server's memory budget (`MemoryBudget`)
/// when its body handler buffers the body or builds tensors itself instead
/// of through `TensorDecoder` (an Open Inference Protocol inference, a
/// `POST /loss` batch). The handler covers each allocation before it makes
/// it (`cover`), may give back what it freed (`shrink`), and gives back the
/// rest once its response is built (`releaseAll`), or on any other path when
/// it is freed. Without a budget (a small request the server runs inline on
/// an event loop, or no `--memory-budget`) it charges nothing, and
/// `isCharging` lets the handler skip counting what it would charge.
final class MemoryCharge {
    private let reservation: MemoryReservation?

    init(budget: MemoryBudget?) {
        reservation = budget.map(MemoryReservation.init)
    }

    /// Whether there is a budget to charge.
    var isCharging: Bool { reservation != nil }

    /// Bytes held now.
    var bytes: Int { reservation?.bytes ?? 0 }

    /// Makes the request hold at least `total` bytes. A buffer that grows
    /// piece by piece passes its final size, when known, as `growingTo`: it
    /// then reserves a quarter more of what it holds, at least
    /// `MemoryBudget.reservationStep` and at most up to that size, so it asks
    /// a few dozen times, not per piece (as `TensorDecoder` does). May wait
    /// (`MemoryBudget.reserve`); a refusal gives back all the request holds
    /// and throws `.overBudget` naming `offset`, the body byte at which the
    /// memory was wanted (a 503 with `Retry-After`).
    func cover(_ total: Int, growingTo size: Int? = nil, at offset: Int) throws(DecodeError) {
        guard let reservation, total > reservation.bytes else { return }
        var more = total - reservation.bytes
        if let size, size > total {
            let step = max(reservation.bytes / 4, reservation.budget.reservationStep)
            more = max(more, min(step, size - reservation.bytes, reservation.budget.limit - reservation.bytes))
        }
        let outcome = reservation.extend(by: more)
        guard outcome != .granted else { return }
        reservation.releaseAll()
        throw .overBudget(offset: offset, budget: reservation.budget.limit, wait: reservation.budget.maxWait,
                          needsMoreThanBudget: outcome == .exceedsBudget)
    }

    /// Gives back what is held past `total` bytes.
    func shrink(to total: Int) { reservation?.shrink(to: total) }

    /// Gives back everything held.
    func releaseAll() { reservation?.releaseAll() }

    /// At most how many JSON values `text` holds inside arrays and objects:
    /// each is followed by a `,` or by its container's `]` or `}` (a count of
    /// those bytes, strings included, so never too few). Add 1 for a text
    /// that is itself one value. The charge for a JSON text's numbers is 8
    /// bytes each, as `TensorDecoder` counts them. Written for speed: one
    /// branch-free pass the compiler vectorises.
    static func valueBound(_ text: UnsafeRawBufferPointer) -> Int {
        var count = 0
        for byte in text {
            // ',' 0x2C, ']' 0x5D, '}' 0x7D
            count &+= Int(truncatingIfNeeded: (byte == 0x2C ? 1 : 0) | (byte == 0x5D ? 1 : 0) | (byte == 0x7D ? 1 : 0))
        }
        return count
    }
}
