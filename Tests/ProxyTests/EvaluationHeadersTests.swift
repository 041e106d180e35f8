import Evaluations
import HTTPTypes
import Telemetry
import Testing

@testable import Proxy

/// `x-spanway-eval-run-id` and `x-spanway-eval-item-id`: both or neither, each a percent-encoded id
/// of 1 to 128 bytes; anything else is a 400 naming the header.
@Suite struct EvaluationHeadersTests {
    static let run = "x-spanway-eval-run-id"
    static let item = "x-spanway-eval-item-id"

    func options(_ pairs: [(String, String)]) throws(GatewayError) -> RequestOptions {
        var headers = HTTPFields()
        for (name, value) in pairs {
            guard let field = HTTPField.Name(name) else { continue }
            headers.append(HTTPField(name: field, value: value))
        }
        var request: OpenAIRequest
        do {
            request = try OpenAIRequest(
                operation: .chat, bytes: Array(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.utf8))
        } catch {
            Issue.record("the fixture request does not parse: \(error)")
            throw error
        }
        return try RequestOptions(taking: &request, headers: headers, reasoningByDefault: false)
    }

    func refusal(_ pairs: [(String, String)]) -> GatewayError? {
        do {
            _ = try options(pairs)
            return nil
        } catch {
            return error
        }
    }

    @Test func neitherHeaderMeansNoEvaluation() throws {
        #expect(try options([]).evaluation == nil)
        #expect(try options([("x-spanway-tags", "a")]).evaluation == nil)
    }

    @Test func bothHeadersLabelTheRequest() throws {
        let label = try options([(Self.run, "eval-0123456789abcdef"), (Self.item, "q-17")]).evaluation
        #expect(label == EvaluationLabel(runID: "eval-0123456789abcdef", itemID: "q-17"))
    }

    @Test func headerNamesAreCaseInsensitive() throws {
        let label = try options([("X-Spanway-Eval-Run-Id", "r"), ("X-SPANWAY-EVAL-ITEM-ID", "i")]).evaluation
        #expect(label == EvaluationLabel(runID: "r", itemID: "i"))
    }

    @Test func everyPrintableNonSpaceCharacterAndExactly128AreAccepted() throws {
        // `%` starts an escape; every other printable character stands for itself.
        let printable = String(decoding: (0x21...0x7E).filter { $0 != 0x25 }.map { UInt8($0) }, as: UTF8.self)
        let longest = String(repeating: "r", count: 128)
        let label = try options([(Self.run, longest), (Self.item, printable + "%25")]).evaluation
        #expect(label?.runID == longest)
        #expect(label?.itemID == printable + "%")
    }

    /// The runner sends each dataset id as `x-spanway-eval-item-id`, so every id a dataset may
    /// hold must pass here, spaces and accents included.
    @Test func everyItemIDADatasetAcceptsIsAValidHeader() throws {
        let items = try EvalDataset.parse(
            jsonLines: Array(
                """
                {"id": "question 1", "input": "a"}
                {"id": "café", "input": "b"}
                """.utf8))
        #expect(items.map(\.id) == ["question 1", "café"])
        // The runner percent-encodes ids into the headers; the gateway decodes them back.
        for item in items {
            let header = EvaluationLabel.headerValue(item.id)
            let label = try options([("x-spanway-eval-run-id", "eval-1"), ("x-spanway-eval-item-id", header)]).evaluation
            #expect(label?.itemID == item.id)
        }
        #expect(EvaluationLabel.headerValue("question 1") == "question%201")
        #expect(EvaluationLabel.headerValue("café") == "caf%C3%A9")
        #expect(EvaluationLabel.id(fromHeader: "100%25") == "100%")
        for bad in ["%", "%zz", "%0", "a%0Ab", "%FF", "with space"] {
            #expect(EvaluationLabel.id(fromHeader: bad) == nil, "\(bad)")
        }
    }

    @Test(arguments: [
        ([("x-spanway-eval-run-id", "eval-1")], "x-spanway-eval-item-id"),
        ([("x-spanway-eval-item-id", "q1")], "x-spanway-eval-run-id"),
        ([("x-spanway-eval-run-id", ""), ("x-spanway-eval-item-id", "q1")], "x-spanway-eval-run-id"),
        ([("x-spanway-eval-run-id", "eval-1"), ("x-spanway-eval-item-id", "")], "x-spanway-eval-item-id"),
        (
            [("x-spanway-eval-run-id", String(repeating: "r", count: 129)), ("x-spanway-eval-item-id", "q1")],
            "x-spanway-eval-run-id"
        ),
        (
            [("x-spanway-eval-run-id", "eval-1"), ("x-spanway-eval-item-id", String(repeating: "i", count: 129))],
            "x-spanway-eval-item-id"
        ),
        ([("x-spanway-eval-run-id", "eval-1"), ("x-spanway-eval-item-id", "café")], "x-spanway-eval-item-id"),
        ([("x-spanway-eval-run-id", "évaluation"), ("x-spanway-eval-item-id", "q1")], "x-spanway-eval-run-id"),
        ([("x-spanway-eval-run-id", "eval-1"), ("x-spanway-eval-item-id", "q\t1")], "x-spanway-eval-item-id"),
    ])
    func aBadOrLoneHeaderIsA400NamingIt(pairs: [(String, String)], named: String) throws {
        let error = try #require(refusal(pairs))
        #expect(error.status == 400)
        #expect(error.type == "invalid_request_error")
        #expect(error.param == named)
        #expect(error.message.contains(named))
    }
}
