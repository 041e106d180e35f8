import Telemetry

/// Descriptive statistics for the results table. Values that are not finite are ignored, so one
/// bad measurement cannot turn a whole column into NaN.
public enum Statistics {
    /// The `p`-quantile (`p` in 0…1) by linear interpolation between closest ranks (Hyndman &
    /// Fan's definition 7, numpy's default: the percentile of [1, 2, 3, 4] at 0.95 is 3.85), the
    /// definition every Spanway report uses. Nil when there are no values or `p` is outside 0…1.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        Percentile.of(values, p)
    }

    /// The arithmetic mean; nil when there are no values.
    public static func mean(_ values: [Double]) -> Double? {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return nil }
        return finite.reduce(0, +) / Double(finite.count)
    }

    /// The mean with its two-sided 95 % confidence interval from Student's t distribution:
    /// mean ± t(0.975, n − 1) · s / √n, with s the sample standard deviation (n − 1 in the
    /// denominator). Nil below two values. The bounds are not clamped: for scores in 0…1 the
    /// caller may clamp them to 0…1 when it shows them.
    public static func meanConfidenceInterval95(_ values: [Double]) -> (mean: Double, low: Double, high: Double)? {
        let finite = values.filter(\.isFinite)
        guard finite.count >= 2, let mean = mean(finite), let t = tCritical95(degreesOfFreedom: finite.count - 1)
        else { return nil }
        let squares = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let standardError = (squares / Double(finite.count - 1)).squareRoot() / Double(finite.count).squareRoot()
        return (mean, mean - t * standardError, mean + t * standardError)
    }

    /// t(0.975, df), the two-sided 95 % critical value of Student's t distribution.
    ///
    /// Exact (to six decimals) for df 1…30, 40, 60 and 120. Between those it is interpolated
    /// linearly in 1/df, the standard way to read a t table: within 0.0001 of the true value, and
    /// never below it by more than the table's rounding, so the interval errs a hair wide, not
    /// narrow (t(35) comes out 2.03016 for a true 2.03011). Above 120 it is interpolated in 1/df
    /// toward the normal quantile 1.959964 at df = ∞. Nil for df < 1.
    public static func tCritical95(degreesOfFreedom df: Int) -> Double? {
        guard df >= 1 else { return nil }
        if df <= exactT.count { return exactT[df - 1] }
        var lower = (df: exactT.count, t: exactT[exactT.count - 1])
        for anchor in tailT {
            if df == anchor.df { return anchor.t }
            if df < anchor.df { return interpolate(df, lower, anchor) }
            lower = anchor
        }
        // Past the last anchor toward df = ∞ (1/df = 0), where t is the normal quantile.
        return normal975 + (lower.t - normal975) * Double(lower.df) / Double(df)
    }

    private static func interpolate(_ df: Int, _ lower: (df: Int, t: Double), _ upper: (df: Int, t: Double)) -> Double {
        let x = 1 / Double(df)
        let x0 = 1 / Double(lower.df)
        let x1 = 1 / Double(upper.df)
        return lower.t + (upper.t - lower.t) * (x0 - x) / (x0 - x1)
    }

    /// t(0.975, df) for df = 1…30.
    private static let exactT: [Double] = [
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
        2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
        2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
    ]

    private static let tailT: [(df: Int, t: Double)] = [(40, 2.021075), (60, 2.000298), (120, 1.979930)]

    /// The 0.975 quantile of the standard normal distribution.
    private static let normal975 = 1.959964
}
