import Testing

@testable import Store

@Suite struct KeyDigestTests {
    @Test func sha256HexOfTheKey() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        #expect(KeyDigest(key: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func matchesOnlyTheSameKey() {
        let master = KeyDigest(key: "sk-master")
        #expect(master.matches(KeyDigest(key: "sk-master")))
        #expect(!master.matches(KeyDigest(key: "sk-master ")))
        #expect(!master.hex.contains("sk-master"))
    }
}
