/// The messages Dossier sends, in the recipient's language. No text typed by a user reaches a
/// message unquoted: the greeting names nobody (a name chosen by whoever signed up with someone
/// else's address would otherwise speak to its owner), and a reviewer's comment is quoted as such.
public enum MailTemplate: Sendable {
    case verifyEmail(link: String)
    /// Someone signed up with an address that already has an account: its owner is told, and
    /// the one who tried learns nothing.
    case signUpAttempt(signInLink: String, resetLink: String)
    case resetPassword(link: String, validMinutes: Int)
    case passwordChanged
    case documentReviewed(document: LocalizedText, validated: Bool, reasons: [LocalizedText], comment: String?, link: String)
    /// Another tenant asks to join the member's application.
    case joinRequested(link: String)
    /// A tenant named the recipient as guarantor: the notice GDPR Art. 14 requires for data not
    /// obtained from the person, with the source, the purpose, the policy and how to object.
    /// The tenant's name is quoted as the tenant gave it.
    case guarantorNamed(tenantName: String?, policyLink: String, dpoEmail: String)
    /// GDPR Art. 19: the tenant rectified, erased or restricted data of a file shared with the
    /// recipient. Says so, never what changed.
    case sharedFileChanged(tenantName: String?, change: SharedDataChange)
    /// Too many wrong access codes were typed on one of the tenant's links: it is locked.
    case shareLocked(reference: String, link: String)
    /// An administrator of a recipient organisation invites the address to join it. The
    /// organisation's name is the one staff registered, not text typed by the inviter.
    case organisationInvitation(organisation: String, link: String, validDays: Int)
    /// Staff registered the address as an organisation's: someone reading it confirms.
    case organisationAddress(organisation: String, link: String, validDays: Int)
    /// The account was deleted (GDPR Art. 17): what was erased, what is kept, why, until when.
    case erasureReceipt(ErasurePlan.Receipt)
    /// A request to exercise a right was received: its reference and the day it is answered by.
    case requestReceived(reference: String, right: LocalizedText, dueDay: String)
    /// Its deadline is extended by two months (GDPR Art. 12(3)), with staff's reason.
    case requestExtended(reference: String, right: LocalizedText, dueDay: String, reason: String)
    /// Staff ask for proof of identity (Art. 12(6)); the register says it is deleted once checked.
    case identityRequested(reference: String, words: LocalizedText, dpoEmail: String)
    case requestAnswered(reference: String, right: LocalizedText, note: String?)
    /// Refused: the reason, and the right to complain to the CNIL (Art. 12(4)).
    case requestRefused(reference: String, right: LocalizedText, reason: RequestRules.Refusal, details: String?)
    /// To staff: an open request nears its deadline, or passed it.
    case requestReminder(reference: String, right: LocalizedText, dueDay: String, overdue: Bool, link: String)
    /// The register's reminder before an inactive account is closed: sign in before `closingDay` to keep it.
    case inactivityReminder(closingDay: String, link: String)

    public func subject(_ language: Language) -> String {
        switch (self, language) {
        case (.verifyEmail, .fr): "Confirmez votre adresse électronique"
        case (.verifyEmail, .en): "Confirm your email address"
        case (.signUpAttempt, .fr): "Une inscription a été tentée avec votre adresse"
        case (.signUpAttempt, .en): "Someone tried to sign up with your address"
        case (.resetPassword, .fr): "Réinitialisez votre mot de passe"
        case (.resetPassword, .en): "Reset your password"
        case (.passwordChanged, .fr): "Votre mot de passe a été modifié"
        case (.passwordChanged, .en): "Your password was changed"
        case let (.documentReviewed(_, validated, _, _, _), .fr): validated ? "Une pièce de votre dossier est validée" : "Une pièce de votre dossier est à remplacer"
        case let (.documentReviewed(_, validated, _, _, _), .en): validated ? "A document of your file was validated" : "A document of your file needs replacing"
        case (.joinRequested, .fr): "Une demande pour rejoindre votre candidature"
        case (.joinRequested, .en): "A request to join your application"
        case (.guarantorNamed, .fr): "Vous avez été désigné comme garant dans un dossier de location"
        case (.guarantorNamed, .en): "You were named as guarantor in a rental file"
        case (.sharedFileChanged, .fr): "Un dossier de location qui vous a été partagé a changé"
        case (.sharedFileChanged, .en): "A rental file shared with you has changed"
        case (.shareLocked, .fr): "Un de vos liens de partage est verrouillé"
        case (.shareLocked, .en): "One of your share links is locked"
        case (.organisationInvitation, .fr): "Invitation à rejoindre une organisation sur Dossier"
        case (.organisationInvitation, .en): "An invitation to join an organisation on Dossier"
        case (.organisationAddress, .fr): "Confirmez l'adresse de votre organisation sur Dossier"
        case (.organisationAddress, .en): "Confirm your organisation's address on Dossier"
        case (.erasureReceipt, .fr): "Votre compte Dossier a été supprimé : votre reçu"
        case (.erasureReceipt, .en): "Your Dossier account was deleted: your receipt"
        case let (.requestReceived(reference, _, _), .fr): "Votre demande \(reference) est enregistrée"
        case let (.requestReceived(reference, _, _), .en): "Your request \(reference) was received"
        case let (.requestExtended(reference, _, _, _), .fr): "Votre demande \(reference) : délai prolongé"
        case let (.requestExtended(reference, _, _, _), .en): "Your request \(reference): deadline extended"
        case let (.identityRequested(reference, _, _), .fr): "Votre demande \(reference) : justificatif d'identité"
        case let (.identityRequested(reference, _, _), .en): "Your request \(reference): proof of identity"
        case let (.requestAnswered(reference, _, _), .fr): "Votre demande \(reference) est traitée"
        case let (.requestAnswered(reference, _, _), .en): "Your request \(reference) was handled"
        case let (.requestRefused(reference, _, _, _), .fr): "Votre demande \(reference) : réponse"
        case let (.requestRefused(reference, _, _, _), .en): "Your request \(reference): our answer"
        case let (.requestReminder(reference, _, _, overdue, _), .fr): overdue ? "Demande \(reference) : délai dépassé" : "Demande \(reference) : échéance proche"
        case let (.requestReminder(reference, _, _, overdue, _), .en): overdue ? "Request \(reference): deadline passed" : "Request \(reference): deadline near"
        case (.inactivityReminder, .fr): "Votre compte Dossier sera bientôt supprimé"
        case (.inactivityReminder, .en): "Your Dossier account will soon be deleted"
        }
    }

    public func text(_ language: Language) -> String {
        switch (self, language) {
        case let (.verifyEmail(link), .fr):
            "Bonjour,\n\nPour confirmer votre adresse électronique sur Dossier, ouvrez ce lien :\n\n\(link)\n\nSi vous n'avez pas créé de compte, ignorez ce message.\n"
        case let (.verifyEmail(link), .en):
            "Hello,\n\nTo confirm your email address on Dossier, open this link:\n\n\(link)\n\nIf you did not create an account, ignore this message.\n"
        case let (.signUpAttempt(signIn, reset), .fr):
            "Bonjour,\n\nQuelqu'un vient de demander la création d'un compte Dossier avec votre adresse, qui a déjà un compte. Aucun compte n'a été créé.\n\nSi c'était vous, connectez-vous :\n\(signIn)\n\nou, si vous avez oublié votre mot de passe :\n\(reset)\n\nSinon, ignorez ce message.\n"
        case let (.signUpAttempt(signIn, reset), .en):
            "Hello,\n\nSomeone just asked to create a Dossier account with your address, which already has one. No account was created.\n\nIf it was you, sign in:\n\(signIn)\n\nor, if you forgot your password:\n\(reset)\n\nOtherwise, ignore this message.\n"
        case let (.resetPassword(link, minutes), .fr):
            "Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien dans les \(minutes) minutes ; il ne sert qu'une fois :\n\n\(link)\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.\n"
        case let (.resetPassword(link, minutes), .en):
            "Hello,\n\nTo choose a new password, open this link within \(minutes) minutes; it works once:\n\n\(link)\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n"
        case (.passwordChanged, .fr):
            "Bonjour,\n\nLe mot de passe de votre compte Dossier vient d'être modifié et vos sessions ont été fermées. Si ce n'était pas vous, réinitialisez-le sans attendre.\n"
        case (.passwordChanged, .en):
            "Hello,\n\nThe password of your Dossier account was just changed and your sessions were closed. If this was not you, reset it at once.\n"
        case let (.shareLocked(reference, link), .fr):
            "Bonjour,\n\nTrop de codes d'accès erronés ont été saisis sur votre lien de partage \(reference) : il est verrouillé, plus personne ne peut l'ouvrir. Si c'était bien votre destinataire, reprenez le lien depuis votre page de partage ; sinon, révoquez-le :\n\n\(link)\n"
        case let (.shareLocked(reference, link), .en):
            "Hello,\n\nToo many wrong access codes were typed on your share link \(reference): it is locked, and nobody can open it. If it was your recipient, resume the link from your sharing page; otherwise, revoke it:\n\n\(link)\n"
        case let (.organisationInvitation(organisation, link, days), .fr):
            "Bonjour,\n\nVous êtes invité à rejoindre « \(Self.quoted(organisation)) » sur Dossier, pour consulter les dossiers de location que des locataires partagent avec elle. Pour choisir votre mot de passe et rejoindre l'organisation, ouvrez ce lien dans les \(days) jours ; il ne sert qu'une fois :\n\n\(link)\n\nSi vous ne vous attendiez pas à cette invitation, ignorez ce message.\n"
        case let (.organisationInvitation(organisation, link, days), .en):
            "Hello,\n\nYou are invited to join \"\(Self.quoted(organisation))\" on Dossier, to view the rental files tenants share with it. To choose your password and join, open this link within \(days) days; it works once:\n\n\(link)\n\nIf you did not expect this invitation, ignore this message.\n"
        case let (.organisationAddress(organisation, link, days), .fr):
            "Bonjour,\n\nCette adresse a été enregistrée sur Dossier comme celle de « \(Self.quoted(organisation)) ». Une fois confirmée, les dossiers de location que des locataires partagent avec elle seront ouverts par les membres de l'organisation depuis leur boîte, sans code d'accès. Si c'est bien l'adresse de l'organisation, confirmez-le dans les \(days) jours :\n\n\(link)\n\nSinon, ignorez ce message : rien ne changera.\n"
        case let (.organisationAddress(organisation, link, days), .en):
            "Hello,\n\nThis address was registered on Dossier as that of \"\(Self.quoted(organisation))\". Once confirmed, the rental files tenants share with it will be opened by the organisation's members from their inbox, without an access code. If it is the organisation's address, confirm it within \(days) days:\n\n\(link)\n\nOtherwise, ignore this message: nothing will change.\n"
        case let (.erasureReceipt(receipt), _):
            Self.erasureReceipt(language, receipt)
        case let (.requestReceived(reference, right, day), .fr):
            "Bonjour,\n\nNous avons bien reçu votre demande (« \(right[language]) »), sous la référence \(reference). Nous y répondrons au plus tard le \(day) (un mois, article 12 du RGPD ; deux mois de plus si elle est complexe, et nous vous le dirions avant).\n"
        case let (.requestReceived(reference, right, day), .en):
            "Hello,\n\nWe received your request (\"\(right[language])\"), reference \(reference). We will answer by \(day) at the latest (one month, GDPR Article 12; two more months if it is complex, and we would tell you beforehand).\n"
        case let (.requestExtended(reference, right, day, reason), .fr):
            "Bonjour,\n\nVotre demande \(reference) (« \(right[language]) ») demande plus de temps : le délai de réponse est prolongé de deux mois, jusqu'au \(day) (article 12, paragraphe 3, du RGPD).\n\nPourquoi : « \(Self.quotedText(reason)) »\n"
        case let (.requestExtended(reference, right, day, reason), .en):
            "Hello,\n\nYour request \(reference) (\"\(right[language])\") needs more time: the deadline is extended by two months, to \(day) (GDPR Article 12(3)).\n\nWhy: \"\(Self.quotedText(reason))\"\n"
        case let (.identityRequested(reference, words, dpo), .fr):
            "Bonjour,\n\nAvant de donner suite à votre demande \(reference), nous devons vérifier votre identité (article 12, paragraphe 6, du RGPD). Envoyez un justificatif d'identité à notre délégué à la protection des données, \(dpo), en rappelant la référence \(reference). \(words[language])\n"
        case let (.identityRequested(reference, words, dpo), .en):
            "Hello,\n\nBefore acting on your request \(reference), we need to verify your identity (GDPR Article 12(6)). Send a proof of identity to our data protection officer, \(dpo), quoting the reference \(reference). \(words[language])\n"
        case let (.requestAnswered(reference, right, note), .fr):
            "Bonjour,\n\nVotre demande \(reference) (« \(right[language]) ») est traitée.\(note.map { "\n\nNotre réponse : « \(Self.quotedText($0)) »" } ?? "")\n\nSi vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la CNIL (www.cnil.fr).\n"
        case let (.requestAnswered(reference, right, note), .en):
            "Hello,\n\nYour request \(reference) (\"\(right[language])\") was handled.\(note.map { "\n\nOur answer: \"\(Self.quotedText($0))\"" } ?? "")\n\nIf you believe your rights were not respected, you can lodge a complaint with the CNIL (www.cnil.fr).\n"
        case let (.requestRefused(reference, right, reason, details), .fr):
            "Bonjour,\n\nNous ne pouvons pas donner suite à votre demande \(reference) (« \(right[language]) ») : \(reason.text(language)).\(details.map { "\n\nPrécisions : « \(Self.quotedText($0)) »" } ?? "")\n\n\(RequestRules.complaint(language))\n"
        case let (.requestRefused(reference, right, reason, details), .en):
            "Hello,\n\nWe cannot act on your request \(reference) (\"\(right[language])\"): \(reason.text(language)).\(details.map { "\n\nDetails: \"\(Self.quotedText($0))\"" } ?? "")\n\n\(RequestRules.complaint(language))\n"
        case let (.requestReminder(reference, right, day, overdue, link), .fr):
            "Bonjour,\n\nLa demande \(reference) (« \(right[language]) ») \(overdue ? "aurait dû recevoir sa réponse le \(day) au plus tard" : "doit recevoir sa réponse au plus tard le \(day)").\n\n\(link)\n"
        case let (.requestReminder(reference, right, day, overdue, link), .en):
            "Hello,\n\nRequest \(reference) (\"\(right[language])\") \(overdue ? "should have been answered by \(day)" : "must be answered by \(day)").\n\n\(link)\n"
        case let (.inactivityReminder(day, link), .fr):
            "Bonjour,\n\nVous ne vous êtes pas connecté à Dossier depuis près d'un an. Comme l'annonce notre politique de confidentialité, votre compte et votre dossier seront supprimés le \(day) si vous ne vous connectez pas d'ici là. Seule la preuve de l'existence du compte (vos nom, adresse et dates) est alors archivée, avec un accès restreint, pour la durée que fixe la politique.\n\nPour garder votre compte, connectez-vous :\n\(link)\n"
        case let (.inactivityReminder(day, link), .en):
            "Hello,\n\nYou have not signed in to Dossier for almost a year. As our privacy policy says, your account and your file will be deleted on \(day) unless you sign in before then. Only the proof that the account existed (your name, address and dates) is then archived, with restricted access, for the time the policy sets.\n\nTo keep your account, sign in:\n\(link)\n"
        case let (.sharedFileChanged(name, change), _):
            Self.sharedFileChanged(language, tenantName: name, change: change)
        case let (.documentReviewed(document, validated, reasons, comment, link), _):
            Self.review(language, document: document[language], validated: validated, reasons: reasons.map { $0[language] },
                        comment: comment, link: link)
        case let (.joinRequested(link), .fr):
            "Bonjour,\n\nUn autre locataire demande à rejoindre votre candidature. Il ne verra rien de votre dossier tant que vous ne l'aurez pas accepté. Pour accepter ou refuser :\n\n\(link)\n"
        case let (.joinRequested(link), .en):
            "Hello,\n\nAnother tenant asks to join your application. They see nothing of your file until you accept them. To accept or decline:\n\n\(link)\n"
        case let (.guarantorNamed(name, policy, dpo), .fr):
            """
            Bonjour,

            Un locataire qui prépare son dossier de location sur Dossier vous y a désigné comme garant.\(name.map { " Le nom qu'il a donné est : « \(Self.quoted($0)) »." } ?? "")

            Ce qui est enregistré à votre sujet : votre nom, votre adresse électronique, votre téléphone s'il l'a donné, et les pièces justificatives qu'il déposera pour vous (liste du décret n° 2015-1437). Tout est chiffré avec une clé qui vous est propre.
            Source : le locataire qui vous a désigné.
            Finalité : constituer son dossier de location et le partager avec les agences, propriétaires et assureurs qu'il choisit (exécution du contrat).

            Destinataires, durées de conservation et vos droits : \(policy)

            Vous pouvez vous opposer à ce traitement, ou demander l'accès à vos données ou leur effacement, en écrivant à notre délégué à la protection des données : \(dpo).

            """
        case let (.guarantorNamed(name, policy, dpo), .en):
            """
            Hello,

            A tenant preparing their rental file on Dossier named you as their guarantor.\(name.map { " The name they gave is: \"\(Self.quoted($0))\"." } ?? "")

            What is recorded about you: your name, your email address, your telephone number if they gave it, and the supporting documents they upload for you (list of decree 2015-1437). All of it is encrypted with a key of your own.
            Source: the tenant who named you.
            Purpose: building their rental file and sharing it with the agencies, landlords and insurers they choose (performance of a contract).

            Recipients, retention periods and your rights: \(policy)

            You can object to this processing, or ask for access to your data or its erasure, by writing to our data protection officer: \(dpo).

            """
        }
    }

    static func sharedFileChanged(_ language: Language, tenantName: String?, change: SharedDataChange) -> String {
        switch language {
        case .fr:
            let who = tenantName.map { "Le locataire « \(quoted($0)) »" } ?? "Un locataire"
            let what = switch change {
            case .rectified: "a corrigé des informations de son dossier de location"
            case .erased: "a effacé des informations de son dossier de location"
            case .restricted: "a demandé la limitation du traitement de son dossier de location"
            case .accountErased: "a supprimé son compte et fait effacer son dossier de location"
            }
            let ask = switch change {
            case .restricted: "Tant que la limitation dure, n'utilisez plus les copies que vous auriez conservées."
            case .accountErased: "Supprimez les copies que vous auriez conservées, sauf obligation légale de les garder."
            default: "Si vous avez conservé des copies, mettez-les à jour ou supprimez-les."
            }
            let still = change == .accountErased ? "Le lien que vous avez reçu ne s'ouvre plus." : "Ce qu'il partage encore reste consultable par le lien que vous avez reçu, tant qu'il est valable."
            return "Bonjour,\n\n\(who) \(what), qu'il vous a partagé par Dossier. L'article 19 du RGPD nous demande de vous en informer. \(ask) \(still)\n\nCe message ne contient aucune des données concernées.\n"
        case .en:
            let who = tenantName.map { "The tenant \"\(quoted($0))\"" } ?? "A tenant"
            let what = switch change {
            case .rectified: "corrected information in their rental file"
            case .erased: "erased information from their rental file"
            case .restricted: "asked for the processing of their rental file to be restricted"
            case .accountErased: "deleted their account and had their rental file erased"
            }
            let ask = switch change {
            case .restricted: "While the restriction lasts, do not use any copies you kept."
            case .accountErased: "Delete any copies you kept, unless the law obliges you to keep them."
            default: "If you kept copies, update or delete them."
            }
            let still = change == .accountErased ? "The link you received no longer opens." : "What they still share can be viewed through the link you received, while it is valid."
            return "Hello,\n\n\(who) \(what), which they shared with you through Dossier. Article 19 of the GDPR asks us to tell you. \(ask) \(still)\n\nThis message contains none of the data concerned.\n"
        }
    }

    static func erasureReceipt(_ language: Language, _ receipt: ErasurePlan.Receipt) -> String {
        let words = RightsWording(language)
        let fr = language == .fr
        var text = fr
            ? "Bonjour,\n\nVotre compte Dossier a été supprimé le \(ShareWatermark.day(of: receipt.erasedAt)), à votre demande (article 17 du RGPD). Les clés qui chiffraient vos pièces et vos données ont été détruites.\n\n"
            : "Hello,\n\nYour Dossier account was deleted on \(ShareWatermark.day(of: receipt.erasedAt)), as you asked (GDPR Article 17). The keys that encrypted your documents and data were destroyed.\n\n"
        text += words.erasedHeading + "\n" + receipt.erased.map { "- \($0.label) (\($0.count))\n" }.joined()
        text += "\n" + words.keptHeading + "\n"
            + receipt.kept.map { "- \($0.category.name) (\($0.purpose.name))\(fr ? " : " : ": ")\($0.what). \($0.reason). \(words.until(ShareWatermark.day(of: $0.until)))\n" }.joined()
        text += "\n" + words.reference(receipt.reference) + "\n"
        text += fr
            ? "\nSi vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la CNIL (www.cnil.fr).\n"
            : "\nIf you believe your rights were not respected, you can lodge a complaint with the CNIL (www.cnil.fr).\n"
        return text
    }

    /// A name typed by someone else, on one line and bounded, so that it reads as a quotation.
    static func quoted(_ text: String) -> String {
        let line = text.unicodeScalars.map { ($0.properties.generalCategory == .control || $0.properties.generalCategory == .format || $0 == "\u{2028}" || $0 == "\u{2029}") ? " " : String($0) }.joined()
        return String(line.prefix(120))
    }

    /// Text staff wrote to a requester (an answer, a reason), quoted whole: its line breaks kept,
    /// any other control or format character made a space.
    static func quotedText(_ text: String) -> String {
        let kept = text.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars.map {
            $0 == "\n" ? "\n" : ($0.properties.generalCategory == .control || $0.properties.generalCategory == .format || $0 == "\u{2028}" || $0 == "\u{2029}") ? " " : String($0)
        }.joined()
        return String(kept.prefix(4000))
    }

    static func review(_ language: Language, document: String, validated: Bool, reasons: [String], comment: String?, link: String) -> String {
        let fr = language == .fr
        var text = fr ? "Bonjour,\n\n" : "Hello,\n\n"
        if validated {
            text += fr ? "Votre pièce « \(document) » a été validée.\n" : "Your document \"\(document)\" was validated.\n"
        } else {
            text += fr ? "Votre pièce « \(document) » n'a pas pu être acceptée, pour ces raisons :\n" : "Your document \"\(document)\" could not be accepted, for these reasons:\n"
            text += reasons.map { "- \($0)\n" }.joined()
        }
        if let comment, !comment.isEmpty {
            // Quoted line by line, as a mail reader shows a quotation: the reviewer's words, not ours.
            text += (fr ? "\nCommentaire de l'équipe de revue :\n" : "\nThe review team's comment:\n")
                + comment.split(separator: "\n", omittingEmptySubsequences: false).map { "> \($0)" }.joined(separator: "\n") + "\n"
        }
        text += (fr ? "\nVotre dossier : " : "\nYour file: ") + link + "\n"
        return text
    }
}

/// What a tenant did to data a recipient received (GDPR Art. 19).
public enum SharedDataChange: String, Sendable, CaseIterable {
    case rectified, erased, restricted
    /// The tenant deleted their account: the link no longer opens.
    case accountErased = "account-erased"
}
