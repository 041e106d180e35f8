/// Where a running evaluation stands, as the runner reports it after each finished cell.
public struct EvalProgress: Sendable, Equatable {
    /// Cells finished in any way (answered, failed or refused).
    public var done: Int
    public var total: Int
    public var failed: Int
    public var refused: Int
    public var spentUSD: Double
    public var elapsedSeconds: Double

    public init(done: Int, total: Int, failed: Int = 0, refused: Int = 0, spentUSD: Double = 0, elapsedSeconds: Double) {
        self.done = done
        self.total = total
        self.failed = failed
        self.refused = refused
        self.spentUSD = spentUSD
        self.elapsedSeconds = elapsedSeconds
    }

    /// Seconds left at the pace so far; nil before the first cell finishes.
    public var etaSeconds: Double? {
        guard done > 0, elapsedSeconds.isFinite, elapsedSeconds >= 0 else { return nil }
        return elapsedSeconds / Double(done) * Double(max(0, total - done))
    }

    /// Whole percent done; never shows 100 % before the last cell.
    public var percent: Int {
        guard total > 0 else { return 0 }
        let rounded = Int((Double(done) / Double(total) * 100).rounded())
        return done < total ? min(rounded, 99) : 100
    }

    /// On a TTY, a bar that fits `width` (the runner prints `"\r" + line + "\u{1B}[K"`):
    /// `[#####.....] 45/120 38% · ETA 1m12s · $0.0123 · 2 errors`. Elsewhere a plain log line:
    /// `progress 45/120 (38%) eta 72s spent $0.0123 errors 2`. Neither ends in a newline.
    public func line(tty: Bool, width: Int) -> String {
        let spent = ReportFormat.usd(spentUSD)
        guard tty else {
            var text = "progress \(done)/\(total) (\(percent)%) eta "
            text += etaSeconds.map { "\(Int($0.rounded()))s" } ?? "--"
            text += " spent \(spent) errors \(failed)"
            if refused > 0 { text += " refused \(refused)" }
            return text
        }
        var status = "\(done)/\(total) \(percent)% · ETA " + (etaSeconds.map(ReportFormat.duration) ?? "--") + " · " + spent
        status += " · \(failed) " + (failed == 1 ? "error" : "errors")
        if refused > 0 { status += " · \(refused) refused" }
        // The bar takes what is left of the line, between 10 and 40 cells; below 10 it is dropped.
        let barWidth = min(40, width - DisplayWidth.of(status) - 3)
        guard barWidth >= 10 else { return DisplayWidth.truncate(status, to: max(0, width)) }
        let filled = total > 0 ? min(barWidth, barWidth * done / total) : 0
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "] " + status
    }
}
