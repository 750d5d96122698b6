#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import LossService

/// What `lossd` prints when asked its version or given a value it refuses:
/// every refusal names the setting and what it accepts.
@Suite(.serialized) struct LossdCommandLineTests {
    static let built = LossdExecutableTests.binary != nil

    @Test("--version prints the version and the revision",
          .enabled(if: built, "lossd is not built beside the tests; run swift build first"))
    func version() throws {
        let (status, text) = try LossdExecutableTests.run(["--version"])
        #expect(status == 0)
        #expect(text == "\(BuildInfo.version) (revision \(BuildInfo.revision))\n", "\(text)")
    }

    @Test("a negative number after a flag is that flag's value, refused as not positive (not 'Missing value')",
          .enabled(if: built, "lossd is not built beside the tests; run swift build first"),
          arguments: [
            (["--max-body-bytes", "-1"], "--max-body-bytes (LOSSD_MAX_BODY_BYTES) must be a positive whole number, got -1"),
            (["--max-body-bytes=-1"], "--max-body-bytes (LOSSD_MAX_BODY_BYTES) must be a positive whole number, got -1"),
            (["--body-timeout", "-0.5"], "--body-timeout (LOSSD_BODY_TIMEOUT) must be a positive number of seconds, got -0.5"),
            (["--port", "-1"], "port -1 is not in 0...65535"),
          ])
    func negativeValues(arguments: [String], message: String) throws {
        let (status, text) = try LossdExecutableTests.run(arguments)
        #expect(status == 64)
        #expect(text.contains(message), "\(text)")
        #expect(!text.contains("Missing value"), "\(text)")
    }

    @Test("--cors-origins refuses what is neither * nor an origin",
          .enabled(if: built, "lossd is not built beside the tests; run swift build first"),
          arguments: ["foo", "dash.example", "https://dash.example/app", "https://dash.example:99999", "https://Dash.example",
                      "https://a.example,foo"])
    func corsOrigins(setting: String) throws {
        let (status, text) = try LossdExecutableTests.run(["--cors-origins", setting])
        #expect(status == 64)
        #expect(text.contains("--cors-origins (LOSSD_CORS_ORIGINS): '"), "\(text)")
        #expect(text.contains("is not * or an origin"), "\(text)")
    }

    @Test("--kernels and LOSSD_KERNELS take auto or baseline, and refuse anything else naming both",
          .enabled(if: built, "lossd is not built beside the tests; run swift build first"),
          arguments: [
            (["--kernels", "avx512"], [:]), (["--kernels", "avx2"], [:]), ([], ["LOSSD_KERNELS": "sse"]),
            (["--kernels", "fast"], ["LOSSD_KERNELS": "baseline"]),
          ] as [([String], [String: String])])
    func kernels(arguments: [String], environment: [String: String]) throws {
        let (status, text) = try LossdExecutableTests.run(arguments, environment: environment)
        #expect(status == 64)
        #expect(text.contains("--kernels (LOSSD_KERNELS): '"), "\(text)")
        #expect(text.contains("is not auto or baseline"), "\(text)")
    }

    @Test("--storage-pool-bytes and LOSSD_STORAGE_POOL_BYTES refuse a negative or non-numeric value, naming the setting",
          .enabled(if: built, "lossd is not built beside the tests; run swift build first"),
          arguments: [
            (["--storage-pool-bytes", "-1"], [:], "LOSSD_STORAGE_POOL_BYTES (or its flag) must be 0 or positive, got -1"),
            ([], ["LOSSD_STORAGE_POOL_BYTES": "-4096"], "LOSSD_STORAGE_POOL_BYTES (or its flag) must be 0 or positive, got -4096"),
            ([], ["LOSSD_STORAGE_POOL_BYTES": "lots"], "LOSSD_STORAGE_POOL_BYTES='lots' is not a valid value"),
          ] as [([String], [String: String], String)])
    func storagePoolBytes(arguments: [String], environment: [String: String], message: String) throws {
        let (status, text) = try LossdExecutableTests.run(arguments, environment: environment)
        #expect(status == 64)
        #expect(text.contains(message), "\(text)")
    }

    @Test("a failing healthcheck says what failed on standard error",
          .enabled(if: built, "lossd is not built beside the tests; run swift build first"))
    func healthcheckSaysWhy() throws {
        let port = LossdExecutableTests.justFreedPort()
        let (status, text) = try LossdExecutableTests.run(["healthcheck", "--port", "\(port)"])
        #expect(status == 1)
        #expect(text == "lossd healthcheck: cannot connect to 127.0.0.1:\(port): Connection refused\n", "\(text)")
    }

    @Test("a healthcheck answered with something other than 200 quotes the status line",
          .enabled(if: built, "lossd is not built beside the tests; run swift build first"))
    func healthcheckQuotesStatus() throws {
        // A TLS lossd answers plain text with 400: the plain healthcheck fails and says so.
        let running = try LossdExecutableTests.Running(
            ["--host", "127.0.0.1", "--port", "0", "--tls-cert", LossdExecutableTests.fixture("localhost-cert.pem"),
             "--tls-key", LossdExecutableTests.fixture("localhost-key.pem")])
        let port = try #require(LossdExecutableTests.port(fromListeningLine: running.firstLine()))
        let (status, text) = try LossdExecutableTests.run(["healthcheck", "--port", "\(port)"])
        #expect(status == 1)
        #expect(text.hasPrefix("lossd healthcheck: GET http://127.0.0.1:\(port)/livez answered 'HTTP/1.1 400"), "\(text)")
        #expect(running.terminate() == 0)
    }
}
