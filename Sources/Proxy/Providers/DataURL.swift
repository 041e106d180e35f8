/// A base64 `data:` URL (`data:image/png;base64,iVBOR…`), the form OpenAI clients send inline
/// images and files in. https://www.rfc-editor.org/rfc/rfc2397
struct DataURL {
    /// What comes between `data:` and `;base64` (may be empty).
    var mediaType: Substring
    /// The base64 text after the comma (may be empty).
    var data: Substring

    /// Nil unless `url` is a base64 data URL.
    init?(_ url: String) {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            return nil
        }
        mediaType = url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count)
        data = url[url.index(after: comma)...]
    }
}
