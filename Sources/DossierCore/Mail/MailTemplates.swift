/// The messages Dossier sends, in the recipient's language.
public enum MailTemplate: Sendable {
    static func review(_ language: Language, name: String, document: String, validated: Bool, reasons: [String], comment: String?, link: String) -> String {
        let fr = language == .fr
        var text = fr ? "Bonjour \(name),\n\n" : "Hello \(name),\n\n"
        if validated {
            text += fr ? "Votre pièce « \(document) » a été validée.\n" : "Your document \"\(document)\" was validated.\n"
        } else {
            text += fr ? "Votre pièce « \(document) » n'a pas pu être acceptée, pour ces raisons :\n" : "Your document \"\(document)\" could not be accepted, for these reasons:\n"
            text += reasons.map { "- \($0)\n" }.joined()
        }
        if let comment, !comment.isEmpty {
            text += (fr ? "\nCommentaire : " : "\nComment: ") + comment + "\n"
        }
        text += (fr ? "\nVotre dossier : " : "\nYour file: ") + link + "\n"
        return text
    }

    case verifyEmail(firstName: String, link: String)
    case resetPassword(firstName: String, link: String, validMinutes: Int)
    case passwordChanged(firstName: String)
    case documentReviewed(firstName: String, document: LocalizedText, validated: Bool, reasons: [LocalizedText], comment: String?, link: String)

    public func subject(_ language: Language) -> String {
        switch (self, language) {
        case (.verifyEmail, .fr): "Confirmez votre adresse électronique"
        case (.verifyEmail, .en): "Confirm your email address"
        case (.resetPassword, .fr): "Réinitialisez votre mot de passe"
        case (.resetPassword, .en): "Reset your password"
        case (.passwordChanged, .fr): "Votre mot de passe a été modifié"
        case (.passwordChanged, .en): "Your password was changed"
        case let (.documentReviewed(_, _, validated, _, _, _), .fr): validated ? "Une pièce de votre dossier est validée" : "Une pièce de votre dossier est à remplacer"
        case let (.documentReviewed(_, _, validated, _, _, _), .en): validated ? "A document of your file was validated" : "A document of your file needs replacing"
        }
    }

    public func text(_ language: Language) -> String {
        switch (self, language) {
        case let (.verifyEmail(name, link), .fr):
            "Bonjour \(name),\n\nPour confirmer votre adresse électronique sur Dossier, ouvrez ce lien :\n\n\(link)\n\nSi vous n'avez pas créé de compte, ignorez ce message.\n"
        case let (.verifyEmail(name, link), .en):
            "Hello \(name),\n\nTo confirm your email address on Dossier, open this link:\n\n\(link)\n\nIf you did not create an account, ignore this message.\n"
        case let (.resetPassword(name, link, minutes), .fr):
            "Bonjour \(name),\n\nPour choisir un nouveau mot de passe, ouvrez ce lien dans les \(minutes) minutes ; il ne sert qu'une fois :\n\n\(link)\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.\n"
        case let (.resetPassword(name, link, minutes), .en):
            "Hello \(name),\n\nTo choose a new password, open this link within \(minutes) minutes; it works once:\n\n\(link)\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n"
        case let (.passwordChanged(name), .fr):
            "Bonjour \(name),\n\nLe mot de passe de votre compte Dossier vient d'être modifié et vos sessions ont été fermées. Si ce n'était pas vous, réinitialisez-le sans attendre.\n"
        case let (.passwordChanged(name), .en):
            "Hello \(name),\n\nThe password of your Dossier account was just changed and your sessions were closed. If this was not you, reset it at once.\n"
        case let (.documentReviewed(name, document, validated, reasons, comment, link), _):
            Self.review(language, name: name, document: document[language], validated: validated,
                        reasons: reasons.map { $0[language] }, comment: comment, link: link)
        }
    }
}
