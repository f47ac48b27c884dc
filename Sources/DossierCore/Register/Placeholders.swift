import Foundation

/// The example values the shipped register carries: an instance that serves the public must
/// not publish them as its own identity.
public enum Placeholders {
    /// The processor names of the shipped register, which name a kind of provider, not one.
    static let exampleProcessors: Set<String> = [
        "Newsletter sending provider", "Review management provider", "Audience measurement tool", "Data visualisation tool",
        "CRM provider", "Payment service provider", "User support provider", "Email delivery provider (the SMTP relay of SMTP_URL)",
    ]

    /// Domains reserved for examples (RFC 2606, RFC 6761).
    static let exampleDomains = ["example", "example.com", "example.org", "example.net", "invalid", "test", "localhost"]

    /// What in the register is an example value, each with what to edit.
    public static func found(in register: Register) -> [String] {
        var found: [String] = []
        let registration = register.controller.registration.filter(\.isNumber)
        if !registration.isEmpty, registration.allSatisfy({ $0 == "0" }) {
            found.append("controller.registration '\(register.controller.registration)' is the example's: write your company's registration (RCS, SIREN)")
        }
        let addresses: [(String, String?)] = [
            ("controller.email", register.controller.email),
            ("controller.website", register.controller.website),
            ("dpo.email", register.dpo.email),
        ]
        for (path, value) in addresses {
            guard let value, let host = host(of: value), isExample(host) else { continue }
            found.append("\(path) '\(value)' is an example address: write your own")
        }
        if register.controller.name.range(of: "example", options: .caseInsensitive) != nil {
            found.append("controller.name '\(register.controller.name)' is the example's: write your organisation's name")
        }
        for (path, address) in [("controller.address", register.controller.address), ("dpo.address", register.dpo.address ?? "")]
        where address.contains("rue de l'Exemple") {
            found.append("\(path) '\(address)' is the example's: write your postal address")
        }
        // The shipped register's processors are kinds of provider, not companies.
        for (index, processor) in register.processors.enumerated() where exampleProcessors.contains(processor.name) {
            found.append("processors[\(index)].name '\(processor.name)' is a placeholder: name the company that does it, or remove it and the purposes' references")
        }
        return found
    }

    /// The domain of an email address or a URL, lower-cased.
    static func host(of value: String) -> String? {
        var text = value.lowercased().trimmingCharacters(in: .whitespaces)
        if let at = text.lastIndex(of: "@") { text = String(text[text.index(after: at)...]) }
        if let scheme = text.range(of: "://") { text = String(text[scheme.upperBound...]) }
        let host = text.split(whereSeparator: { "/:?#".contains($0) }).first.map(String.init) ?? ""
        return host.isEmpty ? nil : host
    }

    static func isExample(_ host: String) -> Bool {
        exampleDomains.contains { host == $0 || host.hasSuffix("." + $0) }
    }

    /// The country (ISO 3166-1 alpha-2) of an AWS region, or nil when it cannot be told.
    public static func country(ofAWSRegion region: String) -> String? {
        let known: [String: String] = [
            "eu-west-1": "IE", "eu-west-2": "GB", "eu-west-3": "FR", "eu-central-1": "DE", "eu-central-2": "CH",
            "eu-north-1": "SE", "eu-south-1": "IT", "eu-south-2": "ES", "ca-central-1": "CA", "ca-west-1": "CA",
            "sa-east-1": "BR", "af-south-1": "ZA", "il-central-1": "IL", "me-south-1": "BH", "me-central-1": "AE",
            "ap-northeast-1": "JP", "ap-northeast-2": "KR", "ap-northeast-3": "JP", "ap-southeast-1": "SG",
            "ap-southeast-2": "AU", "ap-south-1": "IN", "ap-east-1": "HK",
        ]
        let name = region.lowercased().trimmingCharacters(in: .whitespaces)
        if let country = known[name] { return country }
        return name.hasPrefix("us-") ? "US" : nil
    }

    /// Whether the register's website is where the service is served (or a parent domain of it).
    public static func websiteMatches(_ register: Register, baseURLHost: String) -> Bool {
        guard let website = register.controller.website, let host = host(of: website) else { return true }
        let served = baseURLHost.lowercased()
        let bare = host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
        return served == host || served == bare || served.hasSuffix("." + bare)
    }
}
