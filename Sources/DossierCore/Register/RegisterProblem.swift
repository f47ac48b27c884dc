/// One thing wrong with a register, located precisely enough to fix it.
public struct RegisterProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file, or "register" when it was given as text.
    public var file: String
    /// Where in the document: `purposes[3].retention[0].keep`.
    public var path: String
    public var line: Int?
    public var column: Int?
    /// What is wrong and what is expected.
    public var message: String

    public init(file: String, path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        let position = [line, column].compactMap { $0.map(String.init) }.joined(separator: ":")
        let location = position.isEmpty ? file : "\(file):\(position)"
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// A register that cannot be used, with every problem found.
public struct InvalidRegister: Error, Sendable, CustomStringConvertible {
    public var problems: [RegisterProblem]

    public init(problems: [RegisterProblem]) {
        self.problems = problems
    }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return (["Invalid register (\(count)):"] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}
