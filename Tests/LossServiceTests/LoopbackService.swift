import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
@testable import HTTP
import TestSupport
@testable import LossService
@testable import TensorJSON

/// A running `Server` with a `LossResponder` on an ephemeral loopback port,
/// with short limits so that timeout and size rules can be reached quickly.
final class LoopbackService {
    let server: Server
    let responder: LossResponder
    var port: Int { server.port }

    init(cors: CORSPolicy = CORSPolicy(), readiness: Readiness = Readiness(),
         maxTensorBytes: Int = TensorDecoder.defaultMaxTensorBytes, memoryBudget: MemoryBudget? = nil,
         _ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.log = { _ in }
        adjust(&configuration)
        responder = LossResponder(cors: cors, readiness: readiness, metrics: ServiceMetrics(memoryBudget: memoryBudget),
                                  maxTensorBytes: maxTensorBytes,
                                  memoryBudget: memoryBudget, budgetExemptBytes: configuration.inlineBodyBytes)
        server = Server(configuration: configuration, responder: responder)
        try server.start()
    }

    /// Drains the server and waits until every connection is closed.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.drain(deadline: 0) { done.signal() }
        _ = done.wait(timeout: .now() + 5)
    }

    func client() throws -> TestClient { try TestClient(port: port) }
}
