/// Line endings as the event-stream grammar has them: LF, CR, or CR LF, where a CR at the end of
/// one network read and an LF at the start of the next are one ending, not two.
/// https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
struct LineEnding: Sendable {
    enum Byte {
        /// Part of the current line.
        case content
        /// Ends the current line.
        case end
        /// The LF of a CR LF whose CR already ended the line.
        case skip
    }

    private var afterCR = false

    mutating func classify(_ byte: UInt8) -> Byte {
        let wasAfterCR = afterCR
        afterCR = byte == 0x0D
        switch byte {
        case 0x0A: return wasAfterCR ? .skip : .end
        case 0x0D: return .end
        default: return .content
        }
    }
}
