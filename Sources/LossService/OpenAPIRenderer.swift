import Losses
import TensorJSON

/// Renders the parts of `openapi.yaml` that come from `LossRegistry`: the
/// loss and score tags, one path per declaration, its request schema and its
/// 200 response, whose examples are the declaration's `LossExample`s answered
/// by the declaration itself (so they are never out of date). Each part sits
/// in the document between `# BEGIN GENERATED <part>` and
/// `# END GENERATED <part>` lines; `render(into:)` replaces what is between
/// them and leaves every hand-written line outside as it is.
public struct OpenAPIRenderer: Sendable {
    /// A generated part of the document: its marker name and its lines.
    public struct Part: Sendable {
        public let name: String
        public let text: String
    }

    /// What went wrong splicing the parts into a document.
    public struct SpliceError: Error, CustomStringConvertible {
        public let description: String
    }

    public let declarations: [LossDeclaration]

    public init(declarations: [LossDeclaration] = LossRegistry.all) {
        self.declarations = declarations
    }

    /// `# BEGIN GENERATED paths`.
    public static func beginMarker(_ part: String) -> String { "# BEGIN GENERATED \(part)" }
    /// `# END GENERATED paths`.
    public static func endMarker(_ part: String) -> String { "# END GENERATED \(part)" }

    /// Every generated part, in document order.
    public var parts: [Part] {
        [Part(name: "tags", text: tags), Part(name: "paths", text: paths),
         Part(name: "request-schemas", text: requestSchemas), Part(name: "result-responses", text: resultResponses),
         Part(name: "oip-responses", text: oipResponses)]
    }

    /// `document` with the text between each part's markers replaced by the
    /// part; every part's markers must appear once, in order.
    public func render(into document: String) throws(SpliceError) -> String {
        var lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for part in parts {
            let begin = Self.beginMarker(part.name), end = Self.endMarker(part.name)
            guard let first = lines.firstIndex(of: begin), let last = lines.firstIndex(of: end), first < last else {
                throw SpliceError(description: "the document needs the lines '\(begin)' and '\(end)', in that order")
            }
            guard lines.filter({ $0 == begin || $0 == end }).count == 2 else {
                throw SpliceError(description: "the markers of part '\(part.name)' appear more than once")
            }
            let body = part.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines.replaceSubrange((first + 1)..<last, with: body.last == "" ? Array(body.dropLast()) : body)
        }
        return lines.joined(separator: "\n")
    }

    // ----- tags ----------------------------------------------------------------

    /// The tags of the declared kinds: `losses`, and `scores` once a score is declared.
    var tags: String {
        var out = ""
        for kind in [LossDeclaration.Kind.loss, .score] where declarations.contains(where: { $0.kind == kind }) {
            out += "  - name: \(Self.tag(kind))\n"
            out += "    description: \(kind == .loss ? "Score predictions against targets." : "Image quality scores of predictions against targets (higher is better).")\n"
        }
        if !declarations.isEmpty {
            out += "  - name: batch\n"
            out += "    description: Many loss and score requests in one round trip (POST /loss).\n"
        }
        return out
    }

    static func tag(_ kind: LossDeclaration.Kind) -> String { kind == .loss ? "losses" : "scores" }

    // ----- paths ---------------------------------------------------------------

    /// The errors every loss route may answer besides 200, each a shared response.
    static let errorResponses: [(status: String, name: String)] = [
        ("400", "BadRequest"), ("408", "RequestTimeout"), ("411", "LengthRequired"), ("413", "ContentTooLarge"),
        ("414", "URITooLong"), ("415", "UnsupportedMediaType"), ("417", "ExpectationFailed"),
        ("422", "UnprocessableContent"), ("431", "RequestHeaderFieldsTooLarge"), ("503", "ServiceUnavailable"),
    ]

    var paths: String {
        var out = ""
        for (index, declaration) in declarations.enumerated() {
            if index > 0 { out += "\n" }
            out += path(declaration, definesPreflight: index == 0)
        }
        if !declarations.isEmpty { out += "\n" + batchPath }
        return out
    }

    private func path(_ declaration: LossDeclaration, definesPreflight: Bool) -> String {
        let doc = declaration.documentation
        var out = "  \(declaration.path):\n"
        out += "    post:\n"
        out += "      tags: [\(Self.tag(declaration.kind))]\n"
        out += "      operationId: \(doc.operationId)\n"
        out += "      summary: \(Self.scalar(declaration.summary))\n"
        out += "      description: \(Self.scalar(doc.description + "\n\nThe PyTorch reference is `\(declaration.reference)`.", indent: 8))\n"
        out += "      requestBody:\n"
        out += "        required: true\n"
        out += "        content:\n"
        out += "          application/json:\n"
        out += "            schema:\n"
        out += "              $ref: '#/components/schemas/\(doc.typeName)Request'\n"
        if !doc.examples.isEmpty {
            out += "            examples:\n"
            for example in doc.examples {
                out += "              \(example.name):\n"
                out += "                summary: \(Self.scalar(example.summary))\n"
                out += "                value:\n"
                for member in example.members { out += "                  \(member.name): \(member.json)\n" }
            }
        }
        out += "      responses:\n"
        out += "        '200':\n"
        out += "          $ref: '#/components/responses/\(doc.typeName)Result'\n"
        for error in Self.errorResponses {
            out += "        '\(error.status)': {$ref: '#/components/responses/\(error.name)'}\n"
        }
        if definesPreflight {
            out += Self.preflight
        } else {
            out += "    options: *preflight\n"
        }
        return out
    }

    /// The preflight operation, defined once (a YAML anchor) on the first path
    /// and referred to by every other path, the hand-written ones included.
    static let preflight = """
            # The same preflight operation on every path (a YAML anchor, so it is written once).
            options: &preflight
              tags: [cors]
              summary: CORS preflight
              description: |
                Every known path answers `OPTIONS` with 204 and `Allow`. A CORS
                preflight (`Origin` and `Access-Control-Request-Method`) from an
                allowed origin also gets `Access-Control-Allow-Methods`,
                `Access-Control-Allow-Headers` and `Access-Control-Max-Age`, so a
                browser dashboard can POST JSON to the service. An unknown path is
                a 404 whatever the method.
              parameters:
                - name: Origin
                  in: header
                  required: false
                  schema: {type: string}
                  example: https://dashboard.example
                - name: Access-Control-Request-Method
                  in: header
                  required: false
                  schema: {type: string}
                  example: POST
                - name: Access-Control-Request-Headers
                  in: header
                  required: false
                  schema: {type: string}
                  example: content-type
              responses:
                '204': {$ref: '#/components/responses/Preflight'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '408': {$ref: '#/components/responses/RequestTimeout'}
                '413': {$ref: '#/components/responses/ContentTooLarge'}
                '414': {$ref: '#/components/responses/URITooLong'}
                '431': {$ref: '#/components/responses/RequestHeaderFieldsTooLarge'}

        """

    // ----- request schemas -----------------------------------------------------

    var requestSchemas: String {
        var out = ""
        for declaration in declarations {
            let doc = declaration.documentation
            out += "    \(doc.typeName)Request:\n"
            out += "      title: \(Self.scalar(doc.title + " request"))\n"
            out += "      type: object\n"
            out += "      additionalProperties: false\n"
            out += "      required: [\(declaration.members.filter(\.type.isRequired).map(\.name).joined(separator: ", "))]\n"
            out += "      properties:\n"
            for member in declaration.members { out += Self.property(member) }
        }
        return out + batchSchemas
    }

    private static func property(_ member: MemberDeclaration) -> String {
        var out = "        \(member.name):\n"
        let pad = "          "
        // PyTorch's three reductions share one schema.
        if member == .reduction { return out + pad + "$ref: '#/components/schemas/Reduction'\n" }
        out += pad + "description: \(scalar(member.summary, indent: 12))\n"
        switch member.type {
        case .tensor(let required, _):
            out += pad + "$ref: '#/components/schemas/\(required ? "Tensor" : "OptionalTensor")'\n"
        case .bool(let defaultValue):
            out += pad + "type: [boolean, 'null']\n"
            out += pad + "default: \(defaultValue)\n"
        case .number(let defaultValue, let range):
            out += pad + "type: [number, 'null']\n"
            if let lower = range.lower {
                out += pad + "\(range.lowerInclusive ? "minimum" : "exclusiveMinimum"): \(Self.yamlNumber(lower))\n"
            }
            if let upper = range.upper { out += pad + "maximum: \(Self.yamlNumber(upper))\n" }
            out += pad + "default: \(Self.yamlNumber(defaultValue))\n"
        case .integer(let defaultValue):
            out += pad + "type: [integer, 'null']\n"
            out += pad + "default: \(defaultValue)\n"
        case .choice(let options, let defaultValue):
            out += pad + "type: [string, 'null']\n"
            out += pad + "enum: [\(options.joined(separator: ", ")), null]\n"
            out += pad + "default: \(defaultValue)\n"
        case .scalar(let required, let range, let interval):
            var number = "type: number"
            if let lower = range.lower {
                number += ", \(range.lowerInclusive ? "minimum" : "exclusiveMinimum"): \(Self.yamlNumber(lower))"
            }
            if let upper = range.upper { number += ", maximum: \(Self.yamlNumber(upper))" }
            guard interval || !required else { return out + pad + number + "\n" }
            out += pad + "anyOf:\n"
            out += pad + "  - {\(number)}\n"
            if interval {
                out += pad + "  - {title: '[min, max]', type: array, items: {type: number}, minItems: 2, maxItems: 2}\n"
            }
            if !required { out += pad + "  - {type: 'null'}\n" }
        case .integers(let required):
            out += pad + "anyOf:\n"
            out += pad + "  - {type: integer, minimum: -2147483647, maximum: 2147483647}\n"
            out += pad + "  - {type: array, items: {type: integer, minimum: -2147483647, maximum: 2147483647}, minItems: 1}\n"
            if !required { out += pad + "  - {type: 'null'}\n" }
        }
        return out
    }

    // ----- 200 responses -------------------------------------------------------

    var resultResponses: String {
        var out = ""
        for declaration in declarations {
            let doc = declaration.documentation
            out += "    \(doc.typeName)Result:\n"
            out += "      description: The \(declaration.kind == .loss ? "loss" : "score").\n"
            out += "      headers:\n"
            out += "        Access-Control-Allow-Origin: {$ref: '#/components/headers/AccessControlAllowOrigin'}\n"
            out += "      content:\n"
            out += "        application/json:\n"
            out += "          schema: {$ref: '#/components/schemas/LossResult'}\n"
            if !doc.examples.isEmpty {
                out += "          examples:\n"
                for example in doc.examples {
                    out += "            \(example.name):\n"
                    out += "              summary: \(Self.scalar(example.resultSummary ?? "The \"\(example.name)\" request"))\n"
                    out += "              value: \(Self.answer(declaration, example))\n"
                }
            }
        }
        return out + batchResponse
    }

    // ----- POST /loss: a batch -------------------------------------------------

    /// The batch example: each declaration's first example with its `loss`
    /// member, then one request with an unknown member, to show a problem in place.
    var batchExample: String {
        var elements = declarations.compactMap { declaration in
            declaration.documentation.examples.first.map { #"{"loss": "\#(declaration.name)", "# + $0.body.dropFirst() }
        }
        elements.append(#"{"loss": "mse", "predictions": [1.0], "targets": [0.0], "reduce": "sum"}"#)
        return "[" + elements.joined(separator: ", ") + "]"
    }

    private var batchPath: String {
        var out = "  /loss:\n"
        out += "    post:\n"
        out += "      tags: [batch]\n"
        out += "      operationId: lossBatch\n"
        out += "      summary: Many loss requests in one round trip\n"
        out += "      description: \(Self.scalar(Self.batchDescription, indent: 8))\n"
        out += "      requestBody:\n"
        out += "        required: true\n"
        out += "        content:\n"
        out += "          application/json:\n"
        out += "            schema:\n"
        out += "              $ref: '#/components/schemas/LossBatch'\n"
        out += "            examples:\n"
        out += "              everyLoss:\n"
        out += "                summary: The first example of every loss, and one refused request\n"
        out += "                value: \(batchExample)\n"
        out += "      responses:\n"
        out += "        '200':\n"
        out += "          $ref: '#/components/responses/LossBatchResult'\n"
        for error in Self.errorResponses {
            out += "        '\(error.status)': {$ref: '#/components/responses/\(error.name)'}\n"
        }
        out += "    options: *preflight\n"
        return out
    }

    static let batchDescription = """
        A JSON array of loss requests, each an object whose `loss` member names
        a loss or score (its route's last segment) beside that loss's own
        members. The answer is an array in the same order, each element the
        result the loss's own route would give or a problem document (RFC 9457)
        whose detail starts with the request's index (`request [2]: ...`); the
        batch itself is 200. Malformed JSON anywhere is a 400 naming the
        body's byte offset, JSON that is no array a 422, more than 1024 requests
        a 422, a body over 16 MiB a 413 (large tensors go to `/loss/{name}`,
        which streams them).
        """

    private var batchSchemas: String {
        let names = declarations.map(\.name).joined(separator: ", ")
        return """
                LossBatch:
                  title: Loss batch
                  type: array
                  maxItems: 1024
                  items: {$ref: '#/components/schemas/LossBatchRequest'}
                LossBatchRequest:
                  title: One request of a batch
                  description: |
                    A loss request object whose `loss` member names the loss
                    (\(names)); the other members are that loss's request
                    members. Anything else in its place (another JSON value, an
                    unknown loss, a refused member) is answered with a problem
                    in its place, not by refusing the batch, so the schema does
                    not constrain it.
                  properties:
                    loss:
                      description: The name of a loss or score.
                      examples: [\(names)]

            """
    }

    private var batchResponse: String {
        """
                LossBatchResult:
                  description: One answer per request, in order.
                  headers:
                    Access-Control-Allow-Origin: {$ref: '#/components/headers/AccessControlAllowOrigin'}
                  content:
                    application/json:
                      schema:
                        type: array
                        items:
                          anyOf:
                            - $ref: '#/components/schemas/LossResult'
                            - $ref: '#/components/schemas/Problem'
                      examples:
                        everyLoss:
                          summary: The "everyLoss" request
                          value: \(Self.batchAnswer(batchExample))

            """
    }

    /// The batch handler's own answer to `body`.
    static func batchAnswer(_ body: String) -> String {
        let handler = BatchBodyHandler(metrics: ServiceMetrics(includeProcessMetrics: false))
        let bytes = Array(body.utf8)
        _ = bytes.withUnsafeBytes { handler.consume($0) }
        let response = handler.finish()
        precondition(response.status == .ok, "the batch example is refused: \(String(decoding: response.body, as: UTF8.self))")
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The declaration's own answer to `example`, as the JSON a client gets;
    /// a request it refuses is a programming error in the declaration.
    static func answer(_ declaration: LossDeclaration, _ example: LossExample) -> String {
        var decoder = TensorDecoder()
        let bytes = Array(example.body.utf8)
        var fed: String?
        bytes.withUnsafeBytes { buffer in
            do { try decoder.feed(buffer) } catch { fed = "\(error)" }
        }
        do {
            if let fed { throw ScoringError.invalidRequest(InvalidRequest(fed)) }
            let scored = try declaration.evaluate(try decoder.finish())
            return String(decoding: JSONWriter.lossResponse(scored.result, reduction: scored.reduction), as: UTF8.self)
        } catch {
            preconditionFailure("\(declaration.path)'s example '\(example.name)' is refused: \(error)")
        }
    }

    // ----- Open Inference Protocol ---------------------------------------------

    /// The protocol's 404, whose examples are `OIPRoute.lookup`'s own answers
    /// to an unknown model (naming every model) and an unknown version.
    var oipResponses: String {
        var out = "    OIPNotFound:\n"
        out += "      description: 'No such model or version (`{\"error\": ...}`).'\n"
        out += "      headers:\n"
        out += "        Access-Control-Allow-Origin: {$ref: '#/components/headers/AccessControlAllowOrigin'}\n"
        out += "      content:\n"
        out += "        application/json:\n"
        out += "          schema: {$ref: '#/components/schemas/OIPError'}\n"
        out += "          examples:\n"
        var paths = [("unknownModel", "/v2/models/resnet50")]
        if let model = declarations.first?.name { paths.append(("unknownVersion", "/v2/models/\(model)/versions/2/infer")) }
        for (name, path) in paths {
            guard case .notFound(let message) = OIPRoute.lookup(path, models: declarations, named: { name in declarations.first { $0.name == name } }) else {
                preconditionFailure("\(path) is not a 404")
            }
            out += "            \(name):\n"
            out += "              summary: \(Self.scalar(path))\n"
            out += "              value:\n"
            out += "                error: \(Self.scalar(message))\n"
        }
        return out
    }

    // ----- YAML scalars --------------------------------------------------------

    /// A number as YAML 1.1 (PyYAML, schemathesis) and 1.2 both read it:
    /// `formatNumber`'s text, with an exponent's mantissa given a dot and the
    /// exponent a sign (`1e-05` is a string to YAML 1.1; `1.0e-05` a number).
    static func yamlNumber(_ value: Double) -> String {
        let text = formatNumber(value)
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
        var mantissa = String(text[..<e]), exponent = String(text[text.index(after: e)...])
        if !mantissa.contains(".") { mantissa += ".0" }
        if !exponent.hasPrefix("-") && !exponent.hasPrefix("+") { exponent = "+" + exponent }
        return mantissa + "e" + exponent
    }

    /// `text` as a YAML scalar: a literal block (`|`) when it has several lines
    /// (its lines indented by `indent`), a plain scalar when YAML reads it back
    /// unchanged, else single-quoted (YAML 1.2 §7.3.2: `'` doubled).
    static func scalar(_ text: String, indent: Int = 0) -> String {
        if text.contains("\n") {
            let pad = String(repeating: " ", count: indent)
            return "|\n" + text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
        }
        return isPlainSafe(text) ? text : "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// Whether `text` reads back as itself as a plain scalar (YAML 1.2 §7.3.3):
    /// no leading indicator, no `: ` or ` #`, not a number, boolean or null.
    private static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.first, first != " ", text.last != " ", text.last != ":" else { return false }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) { return false }
        if text.contains(": ") || text.contains(" #") { return false }
        if ["true", "false", "null", "~", "yes", "no"].contains(text.lowercased()) || Double(text) != nil { return false }
        return true
    }
}

extension String {
    /// `self` with every `target` replaced (no Foundation in LossService).
    fileprivate func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}

extension OpenAPIRenderer {
    /// The document `GET /openapi.yaml` serves (the committed openapi.yaml).
    public static var servedDocument: String { OpenAPIDocument.text }
}
