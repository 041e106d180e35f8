import PostgresNIO

/// What went wrong, in words safe for logs. `PSQLError` prints a generic text on purpose (its
/// debug form may hold the query and its binds); this keeps the code, the server's SQLSTATE and
/// message, and the network error, none of which holds the password.
enum PostgresFailure {
    static func describe(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError {
            return describe(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        }
        guard let error = error as? PSQLError else {
            return "\(error)"
        }
        if let server = error.serverInfo {
            let state = server[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return "the server said: \(server[.message] ?? "an error")\(state)"
        }
        if let underlying = error.underlying {
            return "\(error.code): \(underlying)"
        }
        return "\(error.code)"
    }

    /// The server's SQLSTATE, when the server answered with an error.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
