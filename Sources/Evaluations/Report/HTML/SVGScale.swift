import Foundation

/// Maps data values to pixel positions along one axis, linear or logarithmic, with "nice" round
/// tick values (1, 2, 2.5, 5 × 10ⁿ, or decades on a log scale).
public struct SVGScale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case linear
        /// Base 10; for values spanning orders of magnitude, such as costs. Domain must be > 0.
        case log
    }

    public var kind: Kind
    public var lower: Double
    public var upper: Double
    /// Pixel position of `lower` and of `upper`; for a y axis `lowerPixel` is the larger number.
    public var lowerPixel: Double
    public var upperPixel: Double

    public init(kind: Kind = .linear, lower: Double, upper: Double, lowerPixel: Double, upperPixel: Double) {
        self.kind = kind
        self.lower = lower
        self.upper = upper
        self.lowerPixel = lowerPixel
        self.upperPixel = upperPixel
    }

    /// A linear scale whose domain covers `values` (and zero when `includeZero`), widened to nice ticks.
    public static func linear(
        covering values: [Double], includeZero: Bool = true, lowerPixel: Double, upperPixel: Double
    ) -> SVGScale {
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0
        var high = finite.max() ?? 1
        if includeZero { low = min(low, 0) }
        if includeZero { high = max(high, 0) }
        if high - low < 1e-12 { high = low + (low == 0 ? 1 : abs(low)) }
        let step = niceStep((high - low) / 5)
        low = (low / step).rounded(.down) * step
        high = (high / step).rounded(.up) * step
        return SVGScale(kind: .linear, lower: low, upper: high, lowerPixel: lowerPixel, upperPixel: upperPixel)
    }

    /// A base-10 log scale from the decade below the smallest positive value to the one above the largest.
    public static func log(covering values: [Double], lowerPixel: Double, upperPixel: Double) -> SVGScale {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        let low = positive.min() ?? 1
        let high = positive.max() ?? 10
        var lower = decade(below: low)
        var upper = decade(below: high)
        if upper < high { upper *= 10 }
        if upper <= lower { upper = lower * 10 }
        if lower == low && low == high { lower /= 10 }
        return SVGScale(kind: .log, lower: lower, upper: upper, lowerPixel: lowerPixel, upperPixel: upperPixel)
    }

    public func position(_ value: Double) -> Double {
        let fraction: Double
        switch kind {
        case .linear:
            fraction = (value - lower) / (upper - lower)
        case .log:
            let clamped = max(value, lower)
            fraction = (log10(clamped) - log10(lower)) / (log10(upper) - log10(lower))
        }
        guard fraction.isFinite else { return lowerPixel }
        return lowerPixel + fraction * (upperPixel - lowerPixel)
    }

    public func ticks() -> [Double] {
        switch kind {
        case .linear:
            let step = Self.niceStep((upper - lower) / 5)
            var ticks: [Double] = []
            var index = (lower / step).rounded(.up)
            while index * step <= upper + step * 1e-9 && ticks.count < 50 {
                // Multiplying an integer index avoids the drift of repeated addition (0.30000000000000004).
                ticks.append(index * step)
                index += 1
            }
            return ticks
        case .log:
            var ticks: [Double] = []
            var decade = lower
            let fewDecades = upper / lower <= 100
            while decade <= upper * (1 + 1e-9) && ticks.count < 40 {
                ticks.append(decade)
                if fewDecades {
                    for factor in [2.0, 5.0] where decade * factor < upper * (1 - 1e-9) { ticks.append(decade * factor) }
                }
                decade *= 10
            }
            return ticks.sorted()
        }
    }

    static func niceStep(_ rough: Double) -> Double {
        guard rough.isFinite, rough > 0 else { return 1 }
        let magnitude = pow10(Int((log10(rough)).rounded(.down)))
        let residual = rough / magnitude
        let nice: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10
        return nice * magnitude
    }

    static func decade(below value: Double) -> Double {
        pow10(Int(log10(value).rounded(.down)))
    }

    /// 10ⁿ by repeated multiplication, so decades are exact for the small exponents charts use.
    static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        if exponent >= 0 {
            for _ in 0..<exponent { result *= 10 }
        } else {
            for _ in 0..<(-exponent) { result /= 10 }
        }
        return result
    }
}
