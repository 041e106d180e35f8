import NIOCore
import Telemetry
import Testing

@testable import Proxy

@Suite struct MultipartFormTests {
    static let contentType = "multipart/form-data; boundary=9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91"

    /// A WAV header, then bytes a careless parser trips on: NUL, bare CR and LF, CRLF followed by
    /// `--` and by a prefix of the boundary.
    static let file: [UInt8] = [
        Array("RIFF".utf8), [0x24, 0x08, 0x00, 0x00], Array("WAVEfmt ".utf8), [0x00, 0x0D, 0x0A, 0x0D, 0x0A, 0xFF, 0xFE],
        Array("\r\n--9b2f1c0e7d4a\r\n".utf8), [0x0D, 0x2D, 0x2D, 0x0A, 0x00], Array("\r\n--".utf8),
    ].flatMap { (piece: [UInt8]) in piece }

    /// What httpx sends for `client.audio.transcriptions.create(file=("a.wav", bytes), model="whisper-1",
    /// response_format="json", timestamp_granularities=["word"])`: the fields, arrays as repeated
    /// `name[]`, then the file, each part closed by CRLF.
    static let head = Array(
        [
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"model\"",
            "",
            "whisper-1",
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"response_format\"",
            "",
            "json",
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"timestamp_granularities[]\"",
            "",
            "word",
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"file\"; filename=\"a.wav\"",
            "Content-Type: audio/wav",
            "",
            "",
        ].joined(separator: "\r\n").utf8)
    static let tail = Array("\r\n--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91--\r\n".utf8)
    static let body = head + file + tail

    /// The same body with the deployment's model name in `model`.
    static let replacedHead = Array(
        [
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"model\"",
            "",
            "whisper-large",
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"response_format\"",
            "",
            "json",
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"timestamp_granularities[]\"",
            "",
            "word",
            "--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91",
            "Content-Disposition: form-data; name=\"file\"; filename=\"a.wav\"",
            "Content-Type: audio/wav",
            "",
            "",
        ].joined(separator: "\r\n").utf8)

    /// The text of the first part called `name`.
    static func value(_ form: MultipartForm, _ name: String) -> String? {
        form.parts.first { $0.name == name }.map { String(buffer: $0.body) }
    }

    static func address(_ buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) }
    }

    @Test func readsFieldsAndFileInPlace() throws {
        // Bytes before the reader index must not shift the offsets.
        var buffer = ByteBuffer(bytes: Array("junk".utf8) + Self.body)
        buffer.moveReaderIndex(forwardBy: 4)
        let form = try MultipartForm(body: buffer, contentType: Self.contentType)
        #expect(form.parts.map(\.name) == ["model", "response_format", "timestamp_granularities[]", "file"])
        #expect(Self.value(form, "model") == "whisper-1" && Self.value(form, "response_format") == "json")
        #expect(Self.value(form, "timestamp_granularities[]") == "word" && Self.value(form, "language") == nil)
        let file = try #require(form.parts.last)
        #expect(file.filename == "a.wav" && file.contentType == "audio/wav")
        #expect(form.parts[0].filename == nil && form.parts[0].contentType == nil)
        #expect([UInt8](buffer: file.body) == Self.file)
        #expect(Self.address(file.body) == Self.address(buffer) + Self.head.count, "the file is a slice, not a copy")
    }

    @Test func replacesTheModelAroundTheUpload() throws {
        let buffer = ByteBuffer(bytes: Self.body)
        let form = try MultipartForm(body: buffer, contentType: Self.contentType)
        let pieces = form.replacing(["model": "whisper-large"])
        #expect(pieces.flatMap { [UInt8](buffer: $0) } == Self.replacedHead + Self.file + Self.tail)
        let upload = try #require(pieces.first { $0.readableBytes == Self.file.count })
        #expect(Self.address(upload) == Self.address(buffer) + Self.head.count, "the file is a slice, not a copy")
    }

    /// Headers are written anew from what the gateway read: a header it ignores, a preamble and
    /// an epilogue do not reach the provider, which cannot read the parts differently.
    @Test func partHeadersAreWrittenAnew() throws {
        let body = Array(
            [
                "preamble", "--xyz", "Content-Disposition: form-data; name=\"model\"", "X-Extra: 1", "", "whisper",
                "--xyz", "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".wav\"",
                "content-type: audio/wav", "", "RIFF", "--xyz--", "epilogue",
            ].joined(separator: "\r\n").utf8)
        let form = try MultipartForm(body: ByteBuffer(bytes: body), contentType: "multipart/form-data; boundary=xyz")
        let sent = String(decoding: form.replacing(["model": "whisper-1"]).flatMap { [UInt8](buffer: $0) }, as: UTF8.self)
        #expect(
            sent
                == "--xyz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
                + "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a %22b%22.wav\"\r\n"
                + "Content-Type: audio/wav\r\n\r\nRIFF\r\n--xyz--\r\n")
        #expect(form.contentType == "multipart/form-data; boundary=xyz")
        let quoted = try MultipartForm(
            body: ByteBuffer(bytes: Array("--a b\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nv\r\n--a b--\r\n".utf8)),
            contentType: "multipart/form-data; boundary=\"a b\"")
        #expect(quoted.contentType == "multipart/form-data; boundary=\"a b\"")
    }

    /// A quote followed by a combining mark is one Character but two scalars: it is escaped all
    /// the same, so a part the gateway reads as "model", a quote and an accent cannot reach the
    /// provider as a second model field.
    @Test func aQuoteBeforeACombiningMarkIsEscaped() throws {
        let body = Array(
            "--xyz\r\nContent-Disposition: form-data; name=\"model\\\"\u{301}\"\r\n\r\nsmuggled\r\n--xyz--\r\n".utf8)
        let form = try MultipartForm(body: ByteBuffer(bytes: body), contentType: "multipart/form-data; boundary=xyz")
        #expect(form.parts.map(\.name) == ["model\"\u{301}"])
        let sent = String(decoding: form.replacing(["model": "whisper-1"]).flatMap { [UInt8](buffer: $0) }, as: UTF8.self)
        #expect(sent.contains("name=\"model%22\u{301}\"\r\n\r\nsmuggled"), "\(sent)")
        let again = try MultipartForm(body: ByteBuffer(string: sent), contentType: form.contentType)
        #expect(again.parts.map(\.name) == ["model%22\u{301}", "model"])
    }

    @Test func addsAMissingField() throws {
        let form = try MultipartForm(body: ByteBuffer(bytes: Self.body), contentType: Self.contentType)
        let pieces = form.replacing(["language": "en"])
        let expected =
            Self.head + Self.file
            + Array(
                "\r\n--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n--9b2f1c0e7d4a4e1fa3c65d8e2b7f0a91--\r\n"
                    .utf8)
        #expect(pieces.flatMap { [UInt8](buffer: $0) } == expected)
    }

    /// RFC 2046's own example: a quoted boundary with a space, a preamble, transport padding after
    /// a delimiter, an empty value, a multi-line value, an epilogue.
    @Test func quotedBoundaryPreambleAndEpilogue() throws {
        let body = Array(
            [
                "This is the preamble.",
                "--simple boundary  ",
                "Content-Disposition: form-data; name=\"prompt\"",
                "",
                "line one",
                "line two",
                "--simple boundary",
                "content-disposition: form-data; name=\"language\"",
                "",
                "",
                "--simple boundary--",
                "This is the epilogue.",
            ].joined(separator: "\r\n").utf8)
        let form = try MultipartForm(
            body: ByteBuffer(bytes: body), contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"simple boundary\"")
        #expect(Self.value(form, "prompt") == "line one\r\nline two")
        #expect(Self.value(form, "language") == "")
    }

    static func fields(_ count: Int) -> [UInt8] {
        var text = ""
        for index in 0..<count { text += "--xyz\r\nContent-Disposition: form-data; name=\"f\(index)\"\r\n\r\nv\r\n" }
        return Array((text + "--xyz--\r\n").utf8)
    }

    @Test func sixtyFourPartsAreAccepted() throws {
        let form = try MultipartForm(body: ByteBuffer(bytes: Self.fields(64)), contentType: "multipart/form-data; boundary=xyz")
        #expect(form.parts.count == 64 && Self.value(form, "f63") == "v")
    }

    @Test func refusesMalformedBodies() {
        let xyz = "multipart/form-data; boundary=xyz"
        let cases: [(String, [UInt8], String)] = [
            ("no closing boundary", Self.head + Self.file, Self.contentType),
            ("no boundary parameter", Self.body, "multipart/form-data"),
            ("empty boundary", Self.body, "multipart/form-data; boundary="),
            ("not multipart", Self.body, "application/json"),
            ("boundary absent from the body", Array("hello".utf8), Self.contentType),
            ("too many parts", Self.fields(65), xyz),
            (
                "headers over 8 KiB",
                Array(
                    ("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: " + String(repeating: "a", count: 9000)
                        + "\r\n\r\nv\r\n--xyz--\r\n").utf8), xyz
            ),
            (
                "no blank line after headers", Array("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n--xyz--\r\n".utf8),
                xyz
            ),
            ("no name", Array("--xyz\r\nContent-Disposition: form-data\r\n\r\nv\r\n--xyz--\r\n".utf8), xyz),
            ("no Content-Disposition", Array("--xyz\r\nContent-Type: text/plain\r\n\r\nv\r\n--xyz--\r\n".utf8), xyz),
            (
                "two Content-Disposition headers",
                Array(
                    "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nv\r\n--xyz--\r\n"
                        .utf8), xyz
            ),
            (
                "a name given twice",
                Array("--xyz\r\nContent-Disposition: form-data; name=\"x\"; name=\"model\"\r\n\r\nv\r\n--xyz--\r\n".utf8), xyz
            ),
            (
                "a carriage return in a name (it could not be written back as read)",
                Array("--xyz\r\nContent-Disposition: form-data; name=\"mo\rdel\"\r\n\r\nv\r\n--xyz--\r\n".utf8), xyz
            ),
            (
                "a NUL in a filename",
                Array(
                    "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\u{0}.wav\"\r\n\r\nv\r\n--xyz--\r\n".utf8
                ),
                xyz
            ),
            (
                "an encoded name",
                Array("--xyz\r\nContent-Disposition: form-data; name=\"x\"; name*=UTF-8''model\r\n\r\nv\r\n--xyz--\r\n".utf8), xyz
            ),
            (
                "garbage after a delimiter",
                Array("--xyz!\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--xyz--".utf8), xyz
            ),
        ]
        for (label, body, contentType) in cases {
            do throws(GatewayError) {
                _ = try MultipartForm(body: ByteBuffer(bytes: body), contentType: contentType)
                Issue.record("accepted: \(label)")
            } catch {
                #expect(error.status == 400 && error.param == "file", "\(label)")
            }
        }
    }
}
