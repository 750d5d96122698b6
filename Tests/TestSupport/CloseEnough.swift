/// Whether `actual` is within `relative` of `expected` (relative to
/// `expected`) or within `absolute` of it; NaN matches only NaN and an
/// infinity only the same infinity. The defaults (1e-12 relative, 1e-15
/// absolute) suit values a reference library computed in binary64.
public func closeEnough(_ actual: Double, _ expected: Double, relative: Double = 1e-12, absolute: Double = 1e-15) -> Bool {
    if expected.isNaN { return actual.isNaN }
    if expected.isInfinite { return actual == expected }
    return abs(actual - expected) <= max(absolute, relative * abs(expected))
}
