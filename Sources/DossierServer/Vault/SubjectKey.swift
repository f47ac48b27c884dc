import Fluent
import Foundation

/// A data subject's data key, wrapped by the master key. Shredding removes the wrapped key and
/// keeps the row as the record that it was destroyed.
final class SubjectKey: Model, @unchecked Sendable {
    static let schema = "subject_keys"

    @ID(key: .id) var id: UUID?
    @Field(key: "subject") var subject: String
    @OptionalField(key: "wrapped_key") var wrappedKey: Data?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "destroyed_at") var destroyedAt: Date?

    /// Listed, not found by reflection: Fluent reflects on the type for every row it reads
    /// otherwise (a fifth of an authenticated read, profiled). `ModelPropertiesTests` keeps
    /// the list equal to the declarations above.
    var properties: [any AnyProperty] { [$id, $subject, $wrappedKey, $createdAt, $destroyedAt] }

    init() {}

    init(subject: String, wrappedKey: Data, now: Date) {
        self.subject = subject
        self.wrappedKey = wrappedKey
        createdAt = now
    }
}
