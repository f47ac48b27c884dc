import DossierCore
import Vapor

/// Bad input in named fields: 422 with one message per field, and nothing stored.
struct ValidationFailure: AbortError {
    var problems: [FieldProblem]
    var status: HTTPResponseStatus { .unprocessableEntity }
    var reason: String {
        "Some fields are invalid: " + problems.map { "\($0.field): \($0.message)" }.joined(separator: " ")
    }
}

/// Too many attempts: 429 with `Retry-After`.
struct Throttled: AbortError {
    var retryAfter: TimeInterval
    var message: String
    var status: HTTPResponseStatus { .tooManyRequests }
    var reason: String { message }
    var headers: HTTPHeaders { ["Retry-After": "\(Int(retryAfter.rounded(.up)))"] }
}
