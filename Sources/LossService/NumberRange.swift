/// The values a number member may take, as its declaration documents them
/// (OpenAPI `minimum`, `exclusiveMinimum`, `maximum`). The loss in `Losses`
/// enforces the rule and words the 422; `LossRegistryTests` checks the two
/// agree at the bounds.
public struct NumberRange: Sendable, Equatable {
    /// The least value, or nil for none.
    public var lower: Double?
    /// Whether `lower` itself is allowed.
    public var lowerInclusive: Bool
    /// The greatest value (always allowed), or nil for none.
    public var upper: Double?

    /// Any finite double.
    public static let any = NumberRange(lower: nil, lowerInclusive: true, upper: nil)
    /// `value ≥ lower`.
    public static func atLeast(_ lower: Double) -> NumberRange { NumberRange(lower: lower, lowerInclusive: true, upper: nil) }
    /// `value > lower`.
    public static func greaterThan(_ lower: Double) -> NumberRange { NumberRange(lower: lower, lowerInclusive: false, upper: nil) }
    /// `lower ≤ value ≤ upper`.
    public static func closed(_ lower: Double, _ upper: Double) -> NumberRange {
        NumberRange(lower: lower, lowerInclusive: true, upper: upper)
    }

    /// Whether `value` is in the range (NaN never is, unless the range is `any`).
    public func contains(_ value: Double) -> Bool {
        if let lower, lowerInclusive ? !(value >= lower) : !(value > lower) { return false }
        if let upper, !(value <= upper) { return false }
        return true
    }
}
