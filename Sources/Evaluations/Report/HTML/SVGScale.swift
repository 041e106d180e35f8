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
        let step = Step((high - low) / 5)
        low = step.value(at: (low / step.size).rounded(.down))
        high = step.value(at: (high / step.size).rounded(.up))
        return SVGScale(kind: .linear, lower: low, upper: high, lowerPixel: lowerPixel, upperPixel: upperPixel)
    }

    /// A base-10 log scale from the decade below the smallest positive value to the one above the largest.
    public static func log(covering values: [Double], lowerPixel: Double, upperPixel: Double) -> SVGScale {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        let lowExponent = Int(log10(positive.min() ?? 1).rounded(.down))
        var highExponent = Int(log10(positive.max() ?? 10).rounded(.up))
        if highExponent <= lowExponent { highExponent = lowExponent + 1 }
        return SVGScale(
            kind: .log, lower: pow10(lowExponent), upper: pow10(highExponent), lowerPixel: lowerPixel, upperPixel: upperPixel)
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
            let step = Step((upper - lower) / 5)
            var ticks: [Double] = []
            var index = (lower / step.size).rounded(.up)
            while step.value(at: index) <= upper + step.size * 1e-9 && ticks.count < 50 {
                ticks.append(step.value(at: index))
                index += 1
            }
            return ticks
        case .log:
            var ticks: [Double] = []
            let lowExponent = Int(log10(lower).rounded())
            let highExponent = Int(log10(upper).rounded())
            let fewDecades = highExponent - lowExponent <= 2
            for exponent in lowExponent...max(lowExponent, highExponent) {
                let decade = Self.pow10(exponent)
                ticks.append(decade)
                if fewDecades && exponent < highExponent {
                    ticks += [2.0, 5.0].map { $0 * decade }
                }
            }
            return ticks
        }
    }

    /// A round tick interval: 1, 2, 2.5 or 5 × 10ⁿ. Tick values are computed as `index × mantissa`
    /// scaled by an exact power of ten, never by adding steps, so they print as `0.6`, not
    /// `0.6000000000000001`.
    struct Step {
        var mantissa: Double
        var exponent: Int

        init(_ rough: Double) {
            guard rough.isFinite, rough > 0 else {
                mantissa = 1
                exponent = 0
                return
            }
            exponent = Int(log10(rough).rounded(.down))
            let residual = rough / SVGScale.pow10(exponent)
            mantissa = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10
        }

        var size: Double { value(at: 1) }

        func value(at index: Double) -> Double {
            let scaled = index * mantissa
            return exponent >= 0 ? scaled * SVGScale.pow10(exponent) : scaled / SVGScale.pow10(-exponent)
        }
    }

    /// 10ⁿ; exact for n ≥ 0 up to 10²², and correctly rounded for negative n.
    static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent >= 0 ? result : 1 / result
    }
}
