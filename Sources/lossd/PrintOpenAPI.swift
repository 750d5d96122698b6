import CommandLineOptions
import LossService

#if canImport(Glibc)
import Glibc
#endif

/// `lossd print-openapi [--output FILE]`: renders the OpenAPI document, its
/// loss and score parts generated from `LossRegistry` between the
/// `# BEGIN GENERATED` / `# END GENERATED` markers. With `--output` the
/// file's own hand-written parts are kept (it is the template, when it
/// exists); without it the document the binary serves is the template and
/// the result goes to standard output.
struct PrintOpenAPI {
    static let command = CommandDeclaration(
        name: "print-openapi",
        abstract: "Print openapi.yaml with its loss parts generated from the declared losses.",
        discussion: "swift run lossd print-openapi --output openapi.yaml regenerates the committed document.",
        options: [OptionDeclaration("output", valueName: "file",
                                    help: "Write the document to this file, keeping its hand-written parts.")])

    var output: String?

    init(options: ParsedOptions) {
        output = options.text("output")
    }

    func run() throws {
        let template = try output.flatMap(PrintOpenAPI.read) ?? OpenAPIRenderer.servedDocument
        let document: String
        do {
            document = try OpenAPIRenderer().render(into: template)
        } catch {
            throw UsageError(error.description, path: [PrintOpenAPI.command.name])
        }
        if let output {
            try PrintOpenAPI.write(document, to: output)
        } else {
            print(document, terminator: "")
        }
    }

    /// The file's text, or nil when it does not exist.
    static func read(_ path: String) throws -> String? {
        guard let file = fopen(path, "rb") else {
            if errno == ENOENT { return nil }
            throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))", path: [PrintOpenAPI.command.name])
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "wb") else {
            throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))", path: [PrintOpenAPI.command.name])
        }
        let bytes = Array(text.utf8)
        let written = fwrite(bytes, 1, bytes.count, file)
        guard fclose(file) == 0, written == bytes.count else {
            throw UsageError("cannot write \(path): \(String(cString: strerror(errno)))", path: [PrintOpenAPI.command.name])
        }
    }
}
