import Testing
import Losses
import TensorJSON
@testable import LossService

/// Every declared loss appears everywhere its declaration says: its route
/// answers its examples, its metrics label counts them, a 422 names its
/// members, its number ranges are enforced, and the OpenAPI document the
/// server serves describes it.
@Suite struct LossRegistryTests {
    static let names = LossRegistry.all.map(\.name)

    static func declaration(_ name: String) throws -> LossDeclaration { try #require(LossRegistry.named(name)) }

    /// The first example's body with `member` set to `json`.
    static func body(_ declaration: LossDeclaration, setting member: String, to json: String) throws -> String {
        let example = try #require(declaration.documentation.examples.first)
        let kept = example.members.filter { $0.name != member }.map { "\"\($0.name)\": \($0.json)" }
        return "{" + (kept + ["\"\(member)\": \(json)"]).joined(separator: ", ") + "}"
    }

    @Test("names and paths are unique and every route is /{kind}/{name}")
    func unique() {
        #expect(Set(LossRegistry.all.map(\.name)).count == LossRegistry.all.count)
        #expect(Set(LossRegistry.all.map(\.documentation.typeName)).count == LossRegistry.all.count)
        for declaration in LossRegistry.all {
            #expect(declaration.path == "/\(declaration.kind.rawValue)/\(declaration.name)")
            #expect(Route.allCases.contains(.loss(declaration)))
        }
    }

    @Test("each declared loss answers every example at its route and counts its elements under its name",
          arguments: names)
    func examplesAnswered(name: String) throws {
        let declaration = try Self.declaration(name)
        let harness = ResponderHarness()
        #expect(!declaration.documentation.examples.isEmpty)
        for example in declaration.documentation.examples {
            let response = harness.post(declaration.path, example.body)
            #expect(response.status == .ok, "\(name) \(example.name): \(response.text)")
            let requested = example.members.first { $0.name == "reduction" }?.json ?? #""mean""#
            #expect(response.text.contains(#""reduction":\#(requested)"#), "\(response.text)")
        }
        let metrics = harness.call(.get, "/metrics").text
        #expect(metrics.contains(#"lossd_http_requests_total{method="POST",route="\#(declaration.path)",status="200"} \#(declaration.documentation.examples.count)"#))
        #expect(metrics.contains(#"lossd_loss_elements_total{loss="\#(name)"} "#))
        #expect(!metrics.contains(#"lossd_loss_elements_total{loss="\#(name)"} 0"#))
    }

    @Test("an unknown member is a 422 that lists the declared members", arguments: names)
    func unknownMemberListsDeclared(name: String) throws {
        let declaration = try Self.declaration(name)
        let response = ResponderHarness().post(declaration.path, try Self.body(declaration, setting: "reduce", to: #""sum""#))
        #expect(response.status == .unprocessableContent)
        let allowed = declaration.members.map(\.name).joined(separator: ", ")
        #expect(response.text.contains("unknown member 'reduce' (allowed: \(allowed))"), "\(response.text)")
    }

    @Test("a missing required member is a 422 that names it", arguments: names)
    func missingRequired(name: String) throws {
        let declaration = try Self.declaration(name)
        for member in declaration.members where member.type.isRequired {
            let example = try #require(declaration.documentation.examples.first)
            let body = "{" + example.members.filter { $0.name != member.name }
                .map { "\"\($0.name)\": \($0.json)" }.joined(separator: ", ") + "}"
            let response = ResponderHarness().post(declaration.path, body)
            #expect(response.status == .unprocessableContent)
            #expect(response.text.contains("missing required member '\(member.name)'"), "\(response.text)")
        }
    }

    @Test("a number (or scalar) member just outside its declared range is a 422 naming it; at the bound it is scored",
          arguments: names)
    func numberRanges(name: String) throws {
        let declaration = try Self.declaration(name)
        for member in declaration.members {
            let range: NumberRange
            switch member.type {
            case .number(_, let declared), .scalar(_, let declared, _): range = declared
            default: continue
            }
            if let lower = range.lower {
                let outside = range.lowerInclusive ? lower.nextDown : lower
                let refused = ResponderHarness().post(declaration.path, try Self.body(declaration, setting: member.name, to: "\(outside)"))
                #expect(refused.status == .unprocessableContent, "\(name).\(member.name) = \(outside): \(refused.text)")
                #expect(refused.text.contains(member.name), "\(refused.text)")
                let inside = range.lowerInclusive ? lower : lower.nextUp
                let scored = ResponderHarness().post(declaration.path, try Self.body(declaration, setting: member.name, to: "\(inside)"))
                #expect(scored.status == .ok, "\(name).\(member.name) = \(inside): \(scored.text)")
            }
            if let upper = range.upper {
                let refused = ResponderHarness().post(declaration.path, try Self.body(declaration, setting: member.name, to: "\(upper.nextUp)"))
                #expect(refused.status == .unprocessableContent, "\(name).\(member.name) = \(upper.nextUp): \(refused.text)")
            }
        }
    }

    @Test("a choice member outside its options is a 422 listing them", arguments: names)
    func choices(name: String) throws {
        let declaration = try Self.declaration(name)
        for member in declaration.members {
            guard case .choice(let options, _) = member.type else { continue }
            let response = ResponderHarness().post(declaration.path, try Self.body(declaration, setting: member.name, to: #""avg""#))
            #expect(response.status == .unprocessableContent)
            // The detail is a JSON string, so the options' quotes are escaped in the body.
            for option in options { #expect(response.text.contains(#"\"\#(option)\""#), "\(response.text)") }
        }
    }

    @Test("the served OpenAPI document describes each declared loss: path, operation, request schema, result",
          arguments: names)
    func inOpenAPI(name: String) throws {
        let declaration = try Self.declaration(name)
        let document = ResponderHarness().call(.get, "/openapi.yaml").text
        let type = declaration.documentation.typeName
        #expect(document.contains("\n  \(declaration.path):\n    post:\n"))
        #expect(document.contains("operationId: \(declaration.documentation.operationId)\n"))
        #expect(document.contains("\n    \(type)Request:\n"))
        #expect(document.contains("\n    \(type)Result:\n"))
        for member in declaration.members { #expect(document.contains("\n        \(member.name):\n")) }
    }

    @Test("every example number reads as a number in YAML 1.1 too (PyYAML, schemathesis): an exponent needs a dot and a sign",
          arguments: names)
    func examplesReadByYAML11(name: String) throws {
        let declaration = try Self.declaration(name)
        for example in declaration.documentation.examples {
            for member in example.members {
                let text = Array(member.json.utf8)
                for (index, byte) in text.enumerated() where byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    guard index > 0, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index - 1]) else { continue }
                    let mantissa = text[..<index].reversed().prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: ",") }
                    #expect(mantissa.contains(UInt8(ascii: ".")), "\(name) \(example.name).\(member.name): \(member.json)")
                    #expect(index + 1 < text.count && [UInt8(ascii: "+"), UInt8(ascii: "-")].contains(text[index + 1]),
                            "\(name) \(example.name).\(member.name): \(member.json)")
                }
            }
        }
    }

    /// A loss declared only here: the squared error times `scale`. What a new
    /// file in Declarations/ would hold.
    static let toy = LossDeclaration(
        name: "toy", summary: "Scaled squared error (a test declaration)", reference: "none",
        members: [
            .predictions("Any shape."), .targets("The predictions' shape."), .reduction,
            MemberDeclaration("scale", .number(default: 1, range: .greaterThan(0)), "Multiplies each squared error."),
        ],
        documentation: LossDocumentation(
            typeName: "Toy", title: "Toy loss", description: "Only in LossRegistryTests.",
            examples: [LossExample("scaled", "Scale 3", ["predictions": "[1.0, 2.0]", "targets": "[0.0, 0.0]", "scale": "3.0"])])
    ) { m throws(LossError) in
        var result = try MeanSquaredError(reduction: m.reduction)(predictions: m.predictions, targets: m.targets)
        let scale = m.number("scale")
        result.loss = try! Tensor(shape: result.loss.shape, data: result.loss.data.map { $0 * scale })
        return result
    }

    @Test("a new declaration appears in the OpenAPI rendering: its path, operation, request schema with its members and ranges, and its answered examples")
    func newDeclarationRendered() throws {
        let committed = ResponderHarness().call(.get, "/openapi.yaml").text
        let rendered = try OpenAPIRenderer(declarations: LossRegistry.all + [Self.toy]).render(into: committed)
        #expect(!committed.contains("/loss/toy"))
        #expect(rendered.contains("\n  /loss/toy:\n    post:\n      tags: [losses]\n      operationId: toy\n"))
        #expect(rendered.contains("$ref: '#/components/schemas/ToyRequest'"))
        #expect(rendered.contains("\n    ToyRequest:\n      title: Toy loss request\n"))
        #expect(rendered.contains("        scale:\n          description: Multiplies each squared error.\n          type: [number, 'null']\n          exclusiveMinimum: 0\n          default: 1\n"))
        #expect(rendered.contains("\n    ToyResult:\n"))
        // (1² + 2²) / 2 · 3, computed by the declaration itself.
        #expect(rendered.contains(#"value: {"loss":7.5,"reduction":"mean","shape":[],"count":2,"weight_sum":2.0}"#))
        // The protocol's 404 example names it among the models.
        #expect(rendered.contains("error: 'unknown model ''resnet50'' (models: \((LossRegistry.all + [Self.toy]).map(\.name).joined(separator: ", ")))'\n"))
        // Everything else is kept: the rendering without it is the committed document.
        #expect(try OpenAPIRenderer().render(into: rendered) == committed)
    }

    @Test("a new declaration checks its own members: unknown ones listed against its declaration, its defaults, its route")
    func newDeclarationMembers() throws {
        let members: [String: JSONMember] = [
            "predictions": .tensor(try Tensor(shape: [2], data: [1, 2])), "targets": .tensor(try Tensor(shape: [2], data: [0, 0])),
        ]
        #expect(throws: ScoringError.invalidRequest(InvalidRequest("unknown member 'beta' (allowed: predictions, targets, reduction, scale)"))) {
            _ = try Self.toy.evaluate(members.merging(["beta": .null]) { $1 })
        }
        let scored = try Self.toy.evaluate(members)
        #expect(scored.result.loss.data == [2.5] && scored.reduction == "mean")
        #expect(Route.loss(Self.toy).path == "/loss/toy" && Route.loss(Self.toy).allowHeader == "POST, OPTIONS")
        // Routing and metrics labels come from LossRegistry.all: the tests above, run for each
        // registered name, check a registered declaration's route, metrics and golden cases.
        #expect(!Route.allCases.contains(.loss(Self.toy)))
    }

    @Test("kl's batchmean is answered as batchmean, its weight_sum the batch size")
    func batchmean() {
        let response = ResponderHarness().post("/loss/kl", #"{"predictions": [[-1.0, -0.5], [-0.2, -2.0], [-1.0, -1.0]], "targets": [[0.5, 0.5], [0.9, 0.1], [0.5, 0.5]], "reduction": "batchmean"}"#)
        #expect(response.status == .ok)
        #expect(response.text.contains(#""reduction":"batchmean","shape":[],"count":6,"weight_sum":3.0"#), "\(response.text)")
    }
}
