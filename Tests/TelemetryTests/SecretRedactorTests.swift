import Testing

@testable import Telemetry

@Suite struct SecretRedactorTests {
    @Test func scrubsKnownSecretsAndKeyShapes() {
        let text = "Incorrect API key provided: sk-proj-abc123XYZ. Also my-secret-value and Bearer tok_123456 and sk-"
        let scrubbed = SecretRedactor.scrub(text, secrets: ["my-secret-value"])
        #expect(!scrubbed.contains("abc123XYZ") && !scrubbed.contains("my-secret-value") && !scrubbed.contains("tok_123456"))
        #expect(scrubbed.contains("sk-[redacted]") && scrubbed.hasSuffix("sk-"))
    }

    @Test func keyShapesAndKnownSecretsAreReplaced() {
        #expect(SecretRedactor.scrub("use sk-abc123 now") == "use sk-[redacted] now")
        #expect(SecretRedactor.scrub("Authorization: Bearer eyJhbGciOi.x") == "Authorization: Bearer [redacted]")
        #expect(SecretRedactor.scrub("pk_live_99 and sk_test_1") == "pk_[redacted] and sk_[redacted]")
        // Fewer than three key characters is no key.
        #expect(SecretRedactor.scrub("sk-ab, sk-") == "sk-ab, sk-")
        #expect(SecretRedactor.scrub("the password hunter2xyz", secrets: ["hunter2xyz"]) == "the password [redacted]")
        #expect(SecretRedactor.scrub("aaaa-aaaa-aaaa", secrets: ["aaaa"]) == "[redacted]-[redacted]-[redacted]")
        // Secrets shorter than four bytes are not searched for (they would match everywhere).
        #expect(SecretRedactor.scrub("abc abc", secrets: ["abc"]) == "abc abc")
        #expect(SecretRedactor.scrub("clé sk-ünïcode ok") == "clé sk-[redacted] ok")
    }

    /// 32 KB of `"sk-a "` took 12–20 s before (each match searched the rest of the text for every
    /// prefix): quadratic, so the 250 KB here would take over ten minutes. In one pass it is a
    /// fraction of a second, even in a debug build.
    @Test(.timeLimit(.minutes(3))) func adversarialTextIsScrubbedInOnePass() {
        let count = 50_000
        let manyShortPrefixes = String(repeating: "sk-a ", count: count)
        let scrubbed = SecretRedactor.scrub(manyShortPrefixes, secrets: ["sk-a sk-b"])
        #expect(scrubbed.utf8.count == manyShortPrefixes.utf8.count)
        let nearMissSecret = String(repeating: "a", count: 250_000)
        #expect(SecretRedactor.scrub(nearMissSecret, secrets: [String(repeating: "a", count: 63) + "b"]) == nearMissSecret)
        let oneLongKey = "sk-" + String(repeating: "k", count: 250_000)
        #expect(SecretRedactor.scrub(oneLongKey) == "sk-[redacted]")
        let emails = String(repeating: "a.b@", count: 60_000)
        #expect(SecretRedactor.scrubEmails(emails).utf8.count == emails.utf8.count)
    }
}
