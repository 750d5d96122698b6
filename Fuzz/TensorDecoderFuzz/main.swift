// libFuzzer target for TensorDecoder: arbitrary bytes, fed at fuzzer-chosen
// split points. Besides "never crash", it checks the decoder's contract:
// the result (members or error) never depends on where the chunks split,
// and every decoded tensor's data fills its shape.
//
// Input layout: byte 0 seeds the chunking (and bit 5 passes the body's
// length as a hint); the rest is the body.

import Losses

private func decode(
    _ body: UnsafeRawBufferPointer, chunkSizes: (inout SplitMix64) -> Int, seed: UInt64, bodyLength: Int? = nil,
    budget: MemoryBudget? = nil, maxNumberLength: Int = TensorDecoder.defaultMaxNumberLength, fold: DifferenceFold? = nil
) -> Result<[String: JSONMember], DecodeError> {
    var decoder = TensorDecoder(maxNumberLength: maxNumberLength, bodyLength: bodyLength, budget: budget, fold: fold)
    var random = SplitMix64(seed: seed)
    var start = 0
    do throws(DecodeError) {
        while start < body.count {
            let end = min(body.count, start + chunkSizes(&random))
            try decoder.feed(UnsafeRawBufferPointer(rebasing: body[start..<end]))
            start = end
        }
        return .success(try decoder.finish())
    } catch {
        return .failure(error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let seed = UInt64(data[0])
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let whole = decode(body, chunkSizes: { _ in Int.max }, seed: seed)
    let maxChunk = Int(seed & 0x1F) + 1
    let hint = seed & 0x20 != 0 ? body.count : nil
    let chunked = decode(body, chunkSizes: { Int($0.next() % UInt64(maxChunk)) + 1 }, seed: seed, bodyLength: hint)
    precondition(whole == chunked, "chunking changed the result: \(whole) vs \(chunked)")
    // Chunks of up to 256 bytes: the decoder's short-number path (which needs
    // NumberScanner.reach bytes ahead) meets chunk ends at every offset.
    let wide = decode(body, chunkSizes: { Int($0.next() % 256) + 1 }, seed: seed ^ 0x5A)
    precondition(whole == wide, "wide chunking changed the result: \(whole) vs \(wide)")
    if body.count <= 256 {
        let bytewise = decode(body, chunkSizes: { _ in 1 }, seed: seed)
        precondition(whole == bytewise, "byte-by-byte changed the result: \(whole) vs \(bytewise)")
    }
    // With a number-length limit of 12 bytes, a number cut past it is carried
    // by its shape alone (see TensorDecoder.carryShape): the same result too.
    let short = decode(body, chunkSizes: { _ in Int.max }, seed: seed, maxNumberLength: 12)
    let shortChunked = decode(body, chunkSizes: { Int($0.next() % UInt64(maxChunk)) + 1 }, seed: seed ^ 0x17,
                              maxNumberLength: 12)
    precondition(short == shortChunked, "chunking changed the result under a short number limit: \(short) vs \(shortChunked)")
    // With an ample memory budget reserved one number at a time, the same
    // result, and every byte given back once the decoder is gone.
    let budget = MemoryBudget(limit: 1 << 30, maxWait: 0, reservationStep: 8)
    let budgeted = decode(body, chunkSizes: { Int($0.next() % UInt64(maxChunk)) + 1 }, seed: seed ^ 0x33,
                          bodyLength: hint, budget: budget)
    precondition(whole == budgeted, "the memory budget changed the result: \(whole) vs \(budgeted)")
    precondition(budget.reservedBytes == 0, "\(budget.reservedBytes) bytes of the budget not given back")
    // Folding member "b" into "a" (or "a" into "b", whichever came first) as a difference loss
    // does: the same errors, the same other members, and a - b where the two have one shape,
    // however the body is cut.
    let fold = DifferenceFold(minuend: "a", subtrahend: "b")
    let folded = decode(body, chunkSizes: { _ in Int.max }, seed: seed, fold: fold)
    let foldedChunked = decode(body, chunkSizes: { Int($0.next() % UInt64(maxChunk)) + 1 }, seed: seed ^ 0x29,
                               bodyLength: hint, budget: budget, fold: fold)
    precondition(folded == foldedChunked, "chunking changed the folded result: \(folded) vs \(foldedChunked)")
    precondition(budget.reservedBytes == 0, "\(budget.reservedBytes) bytes of the budget not given back after a fold")
    switch (whole, folded) {
    case (.failure(let error), _):
        precondition(folded == .failure(error), "the fold changed an error: \(error) vs \(folded)")
    case (.success(let members), .success(var foldedMembers)):
        for (first, second) in [("a", "b"), ("b", "a")] {
            guard case .foldedTensor(let shape)? = foldedMembers[second] else { continue }
            guard case .tensor(let a)? = members["a"], case .tensor(let b)? = members["b"] else {
                preconditionFailure("a fold without two tensors")
            }
            precondition(shape == (second == "a" ? a.shape : b.shape), "the folded member's shape changed")
            guard case .tensor(let differences)? = foldedMembers[first] else { preconditionFailure("no differences") }
            precondition(differences.shape == (first == "a" ? a.shape : b.shape), "the differences' shape changed")
            if a.shape == b.shape {
                precondition(differences.data == zip(a.data, b.data).map { $0 - $1 }, "the differences are not a - b")
            }
            foldedMembers["a"] = members["a"]
            foldedMembers["b"] = members["b"]
        }
        precondition(foldedMembers == members, "the fold changed other members: \(members) vs \(foldedMembers)")
    case (.success, .failure(let error)):
        preconditionFailure("the fold made an error of a success: \(error)")
    }
    switch whole {
    case .success(let members):
        for case .tensor(let tensor) in members.values {
            precondition(tensor.shape.reduce(1, *) == tensor.count, "a tensor's data does not fill its shape")
            precondition(tensor.data.allSatisfy(\.isFinite), "a non-finite number was accepted")
        }
    case .failure(.malformed(let offset, _)), .failure(.tooLarge(let offset, _)):
        precondition(offset >= 0 && offset <= body.count, "offset \(offset) outside a body of \(body.count) bytes")
    case .failure(.invalid(let message)):
        precondition(!message.isEmpty)
    case .failure(.overBudget):
        preconditionFailure("a refusal from a budget that was not given")
    }
    return 0
}
