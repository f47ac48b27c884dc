import Crypto
import DossierCore
import Fluent
import SQLKit
import Foundation
import Vapor

/// Sharing the tenant's file: links created, listed, paused, revoked by the tenant; resolved,
/// viewed and downloaded by recipients, every access logged and audited, every document
/// delivered watermarked for its recipient (never the original). The API and the pages share it.
struct ShareService: Sendable {
    let database: any Database
    let services: DossierServices
    let logger: Logger

    init(_ request: Request) {
        self.init(database: request.db, services: request.dossier, logger: request.logger)
    }

    init(database: any Database, services: DossierServices, logger: Logger) {
        self.database = database
        self.services = services
        self.logger = logger
    }

    var clock: any WallClock { services.clock }
    var vault: KeyVault { services.vault }
    var register: Register { services.register.register }
    var files: RentalFileService { RentalFileService(database: database, services: services, logger: logger) }

    /// Links a tenant may hold open at once (revoked and expired ones do not count).
    static let maximumOpenShares = 50

    // MARK: The tenant's side

    struct NewShare: Sendable {
        var recipientName: String
        var recipientEmail: String
        var recipientKind: String
        var purpose: String
        /// nil: the whole file.
        var documentIDs: [UUID]?
        var expiresAt: Date?
        /// Protect the link with an access code, for the tenant to give the recipient apart.
        var accessCode = false
    }

    struct Created: Sendable {
        var share: Share
        /// The secret of the link, shown once: only its hash is kept.
        var token: String
        /// Its access code, shown once, when it has one.
        var accessCode: String?
    }

    /// The public address of a link.
    func url(token: String) -> String {
        let base = services.configuration.baseURL
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/s/" + token
    }

    func create(_ input: NewShare, for account: Account, language: Language) async throws -> Created {
        try files.requireVerified(account, language: language)
        let now = clock.now
        let words = SharingWording(language)
        var problems: [FieldProblem] = []
        problems += Self.textProblems(input.recipientName, field: "recipient.name", maximum: ShareRules.maximumNameLength, language: language)
        let email = EmailAddress(input.recipientEmail)
        if email == nil { problems.append(FieldProblem(field: "recipient.email", message: AccountWording(language).invalidEmail)) }
        let kind = RecipientKind(rawValue: input.recipientKind).flatMap { kind in
            ShareRules.recipients(in: register).contains { $0.kind == kind } ? kind : nil
        }
        if kind == nil { problems.append(FieldProblem(field: "recipient.kind", message: words.kinds(ShareRules.recipients(in: register).map(\.kind.rawValue)))) }
        problems += Self.textProblems(input.purpose, field: "purpose", maximum: ShareRules.maximumPurposeLength, language: language)
        var expiresAt = now
        if let kind {
            do {
                expiresAt = try ShareRules.expiry(requested: input.expiresAt, kind: kind, register: register, now: now)
            } catch .expiryTooLate(let latest) {
                problems.append(FieldProblem(field: "expiresAt", message: words.expiryTooLate(latest)))
            } catch {
                problems.append(FieldProblem(field: "expiresAt", message: words.expiryInPast))
            }
        }
        var documentIDs: [UUID] = []
        if let chosen = input.documentIDs, let kind {
            let allowed = ShareRules.documentCategories(for: kind, in: register)
            let own = try await files.documents(of: account)
            if chosen.isEmpty || Set(chosen).count != chosen.count || chosen.count > 100 {
                problems.append(FieldProblem(field: "documentIds", message: words.documentsList))
            } else if !chosen.allSatisfy({ id in own.contains { $0.id == id && allowed.contains($0.category) && $0.status != .declined } }) {
                // Someone else's, missing, declined or not for this recipient: told alike.
                problems.append(FieldProblem(field: "documentIds", message: words.documentsNotShareable))
            }
            documentIDs = chosen
        }
        guard problems.isEmpty, let kind, let email else { throw ValidationFailure(problems: problems) }
        let chosenIDs = documentIDs

        let id = UUID()
        let token = SecretToken.generate()
        let details = ShareDetails(name: input.recipientName.trimmingCharacters(in: .whitespacesAndNewlines), email: email.value,
                                   purpose: input.purpose.trimmingCharacters(in: .whitespacesAndNewlines),
                                   tenant: GuarantorNotice.displayName(account.firstName, account.lastName))
        let sealed = try await vault.sealJSON(details, for: account.subject, context: Share.detailsContext(id))
        let accountID = try account.requireID()
        let share = Share(id: id, accountID: accountID, subject: account.subject, recipientKind: kind, sealed: sealed,
                          tokenHash: SecretToken.hash(token), wholeFile: input.documentIDs == nil, language: language,
                          now: now, expiresAt: expiresAt)
        let code = input.accessCode ? ShareRules.newAccessCode() : nil
        share.codeHash = code.map { Share.codeHash($0, share: id) }
        share.recipientIndex = try await vault.recipientIndex(email)
        try await services.audit.transaction(on: database) { db, audit in
            let open = try await Share.query(on: db).filter(\.$account.$id == accountID).filter(\.$revokedAt == nil)
                .filter(\.$expiresAt > now).count()
            guard open < Self.maximumOpenShares else {
                throw Abort(.conflict, reason: words.tooManyShares(Self.maximumOpenShares))
            }
            try await share.create(on: db)
            for documentID in chosenIDs {
                try await ShareDocument(shareID: id, documentID: documentID).create(on: db)
            }
            audit.record(AuditEvent(action: "share.created", subject: account.subject, purpose: "services",
                                    details: ["share": id.uuidString.lowercased(), "recipientKind": kind.rawValue,
                                              "documents": share.wholeFile ? "all" : String(chosenIDs.count)]), by: account.subject)
        }
        return Created(share: share, token: token, accessCode: code)
    }

    static func textProblems(_ text: String, field: String, maximum: Int, language: Language) -> [FieldProblem] {
        let words = AccountWording(language)
        if TextRules.hasForbidden(text) { return [FieldProblem(field: field, message: words.invalidCharacters)] }
        if TextRules.length(text) > maximum { return [FieldProblem(field: field, message: words.tooLong(maximum))] }
        if TextRules.isBlank(text) { return [FieldProblem(field: field, message: words.required)] }
        return []
    }

    /// The tenant's links, newest first.
    func shares(of account: Account) async throws -> [Share] {
        try await Share.query(on: database).filter(\.$account.$id == account.requireID()).sort(\.$createdAt, .descending).all()
    }

    /// One of the tenant's links, or nil (also for someone else's).
    func share(_ id: UUID, of account: Account) async throws -> Share? {
        try await Share.query(on: database).filter(\.$id == id).filter(\.$account.$id == account.requireID()).first()
    }

    /// The organisation whose confirmed address the link was made to: its members see it in
    /// their inbox (and the tenant is told so).
    func receivingOrganisation(of share: Share) async throws -> Organisation? {
        guard let index = share.recipientIndex,
              let organisation = try await Organisation.query(on: database).filter(\.$recipientIndex == index).first(),
              let confirmed = organisation.addressConfirmedAt, share.createdAt >= confirmed else { return nil }
        return organisation
    }

    func details(of share: Share) async throws -> ShareDetails {
        try await vault.openJSON(ShareDetails.self, share.sealed, for: share.subject, context: Share.detailsContext(share.requireID()))
    }

    /// The documents a link names (for a link to chosen documents).
    func chosenDocuments(of share: Share) async throws -> [UUID] {
        try await ShareDocument.query(on: database).filter(\.$share.$id == share.requireID()).all().map(\.$document.id)
    }

    /// The link's latest accesses, newest first (`limit` of them).
    func accesses(of share: Share, limit: Int = 1000) async throws -> [ShareAccess] {
        try await ShareAccess.query(on: database).filter(\.$share.$id == share.requireID()).sort(\.$occurredAt, .descending)
            .limit(limit).all()
    }

    enum Change: String {
        case revoke, pause, resume

        var auditAction: String {
            switch self {
            case .revoke: "share.revoked"
            case .pause: "share.paused"
            case .resume: "share.resumed"
            }
        }
    }

    /// Revokes (for good), pauses or resumes a link. Revoked, its cached renditions go at once.
    func change(_ share: Share, _ change: Change, by account: Account, language: Language) async throws {
        let now = clock.now
        let words = SharingWording(language)
        let state = share.state(at: now)
        switch change {
        case .revoke:
            guard share.revokedAt == nil else { return }
            share.revokedAt = now
        case .pause:
            guard !state.isFinal else { throw Abort(.conflict, reason: words.notOpen) }
            guard share.pausedAt == nil else { return }
            share.pausedAt = now
        case .resume:
            // Resuming also unlocks a link locked by wrong codes.
            guard !state.isFinal else { throw Abort(.conflict, reason: words.notOpen) }
            guard share.pausedAt != nil || share.lockedAt != nil else { return }
            share.pausedAt = nil
            share.lockedAt = nil
        }
        let shareID = try share.requireID()
        let keys = try await services.audit.transaction(on: database) { db, audit in
            try await share.save(on: db)
            if change == .resume {
                // Resumed by its tenant: wrong codes are counted afresh.
                let codes = ThrottleLedger.Key("share-code", shareID.uuidString)
                try await ThrottleEvent.query(on: db).filter(\.$scope == codes.scope).filter(\.$key == codes.key).delete()
            }
            audit.record(AuditEvent(action: change.auditAction, subject: account.subject, purpose: "services",
                                    details: ["share": shareID.uuidString.lowercased()]), by: account.subject)
            return change == .revoke ? try await Self.dropRenditions(of: [shareID], at: now, on: db) : []
        }
        try await BlobJournal.completeDeletion(of: keys, blobs: services.blobs, on: database)
    }

    /// Deletes the cached renditions of `shares` in the caller's transaction, their blobs
    /// journaled for deletion; returns the blob keys, to delete once it commits
    /// (`BlobJournal.completeDeletion`). A revoked or expired link, or a document deleted from
    /// the file, leaves no copy behind.
    static func dropRenditions(of shares: [UUID], at now: Date, on db: any Database) async throws -> [String] {
        guard !shares.isEmpty else { return [] }
        let cached = try await ShareRendition.query(on: db).filter(\.$share.$id ~~ shares).all()
        guard !cached.isEmpty else { return [] }
        try await ShareRendition.query(on: db).filter(\.$share.$id ~~ shares).delete()
        try await BlobJournal.record(cached.map(\.blobKey), .delete, at: now, on: db)
        return cached.map(\.blobKey)
    }

    /// Deletes the cached renditions of every revoked or expired link (run every minute by the
    /// background loop): a link nobody visits after it ends keeps no copy. Returns how many went.
    @discardableResult
    static func sweepClosedRenditions(on database: any Database, blobs: any BlobStore, now: Date) async throws -> Int {
        let closed = try await ShareRendition.query(on: database)
            .join(Share.self, on: \ShareRendition.$share.$id == \Share.$id)
            .group(.or) { $0.filter(Share.self, \.$revokedAt != nil).filter(Share.self, \.$expiresAt <= now) }
            .all()
        let shares = Array(Set(closed.map(\.$share.id)))
        guard !shares.isEmpty else { return 0 }
        let keys = try await database.transaction { db in
            try await db.takeWriteLock()
            return try await dropRenditions(of: shares, at: now, on: db)
        }
        try await BlobJournal.completeDeletion(of: keys, blobs: blobs, on: database)
        return keys.count
    }

    /// The links of an account that may hold renditions of its documents.
    static func shareIDs(of accountID: UUID, on db: any Database) async throws -> [UUID] {
        try await Share.query(on: db).filter(\.$account.$id == accountID).all().compactMap(\.id)
    }

    // MARK: The recipient's side

    /// Why a link does not serve: unknown (404, also for a malformed token), gone for good
    /// (revoked or expired: 410), or paused (403); too many unknown tokens from one address: 429.
    struct Refusal: AbortError {
        var status: HTTPResponseStatus
        var reason: String
        var state: ShareState?
        var headers: HTTPHeaders = [:]
    }

    /// The link a token opens, if it serves now. Unknown tokens count against the client's
    /// address: guessing is slowed down, then stopped for the hour.
    func resolve(token: String, client: String, language: Language) async throws -> Share {
        let now = clock.now
        let words = SharingWording(language)
        let ledger = ThrottleLedger(database: database)
        let key: ThrottleLedger.Key
        do {
            key = try await ledger.admitGuesses("share-token:client", client: client, policy: ShareRules.guessing, now: now, language: language)
        } catch let throttled as Throttled {
            // Answered with the link's refusal page, as its other refusals are.
            throw Refusal(status: throttled.status, reason: throttled.reason, state: nil, headers: throttled.headers)
        }
        // A token is 43 characters of base64url: anything else is unknown without a lookup.
        let wellFormed = token.utf8.count == 43 && token.utf8.allSatisfy { $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
        guard wellFormed, let share = try await Share.query(on: database).filter(\.$tokenHash == SecretToken.hash(token)).first() else {
            try await ledger.record([key], at: now)
            throw Refusal(status: .notFound, reason: words.unknownLink, state: nil)
        }
        let state = share.state(at: now)
        switch state {
        case .active:
            return share
        case .revoked, .expired:
            // An expired link's copies go as soon as it is seen expired (the background loop's
            // sweep takes those nobody asks for, `sweepClosedRenditions`).
            let shareID = try share.requireID()
            if try await ShareRendition.query(on: database).filter(\.$share.$id == shareID).count() > 0 {
                let keys = try await database.transaction { db in
                    try await db.takeWriteLock()
                    return try await Self.dropRenditions(of: [shareID], at: now, on: db)
                }
                try await BlobJournal.completeDeletion(of: keys, blobs: services.blobs, on: database)
            }
            throw Refusal(status: .gone, reason: words.goneLink(state), state: state)
        case .paused:
            throw Refusal(status: .forbidden, reason: words.pausedLink, state: state)
        case .locked:
            throw Refusal(status: .forbidden, reason: words.lockedLink, state: state)
        }
    }

    // MARK: Access codes

    /// What proves a recipient typed the link's code: a cookie bound to the link (its id and its
    /// token's hash), signed with the server's key.
    func codeProof(for share: Share) throws -> String {
        let message = Data("share-code|\(try share.requireID().uuidString.lowercased())|\(share.tokenHash)".utf8)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: services.csrfKey)).base64URLEncoded()
    }

    /// The cookie's name, per link.
    static func codeCookie(_ share: Share) -> String { "dossier_share_\(share.reference)" }

    enum CodeCheck: Equatable {
        case admitted
        /// No code, or a wrong one: how many tries are left before the link locks.
        case asked(wrong: Bool, triesLeft: Int)
    }

    /// Whether the recipient may see a code-protected link: the proof cookie, or the code itself
    /// (a form or `X-Access-Code`). A wrong code counts; the fifth in an hour locks the link and
    /// tells the tenant, and the link then refuses everyone (403) until the tenant resumes it.
    func checkCode(_ share: Share, code: String?, proof: String?, language: Language) async throws -> CodeCheck {
        guard let expected = share.codeHash else { return .admitted }
        if let proof, CSRFMiddleware.constantTimeEquals(proof, try codeProof(for: share)) { return .admitted }
        let shareID = try share.requireID()
        let now = clock.now
        let ledger = ThrottleLedger(database: database)
        let key = ThrottleLedger.Key("share-code", shareID.uuidString)
        guard let code else {
            let failures = try await ledger.times(key, since: now - ShareRules.lockWindow).count
            return .asked(wrong: false, triesLeft: max(0, ShareRules.maximumCodeFailures - failures))
        }
        // Every typed code is judged in one serialised transaction, the link read again under
        // lock: parallel guesses are judged one after another, and none is compared once the link
        // has locked (the fifth wrong one in an hour, or the tenth in a day).
        let verdict = try await services.audit.transaction(on: database) { db, audit -> CodeVerdict in
            try await db.lockRow(Share.schema, shareID)
            guard let current = try await Share.find(shareID, on: db), current.revokedAt == nil, current.lockedAt == nil else {
                return .locked
            }
            if ShareRules.isAccessCode(code), CSRFMiddleware.constantTimeEquals(Share.codeHash(code, share: shareID), expected) {
                return .admitted
            }
            let ledger = ThrottleLedger(database: db)
            try await ledger.record([key], at: now)
            let recent = try await ledger.times(key, since: now - ShareRules.lockWindow).count
            let today = try await ledger.times(key, since: now - 24 * 3600).count
            guard recent >= ShareRules.maximumCodeFailures || today >= ShareRules.maximumCodeFailuresPerDay else {
                return .wrong(triesLeft: max(0, min(ShareRules.maximumCodeFailures - recent, ShareRules.maximumCodeFailuresPerDay - today)))
            }
            current.lockedAt = now
            try await current.save(on: db)
            audit.record(AuditEvent(action: "share.locked", subject: share.subject, purpose: "security",
                                    details: ["share": shareID.uuidString.lowercased()]), by: "system")
            if let owner = try await Account.find(share.$account.id, on: db) {
                try await services.mailer.enqueue(.shareLocked(reference: share.reference, link: services.mailer.page("/file/sharing", language: owner.language)),
                                                  to: owner, on: db)
            }
            return .locked
        }
        switch verdict {
        case .admitted: return .admitted
        case let .wrong(left): return .asked(wrong: true, triesLeft: left)
        case .locked: throw Refusal(status: .forbidden, reason: SharingWording(language).lockedLink, state: .locked)
        }
    }

    private enum CodeVerdict: Sendable {
        case admitted, locked
        case wrong(triesLeft: Int)
    }


    /// What the link shows now: the documents it names (all of the file's for a whole-file
    /// link), only of the categories the register lets this recipient receive, never a declined one.
    /// `owner`: the link's tenant, when the caller has read it already.
    func documents(for share: Share, owner: Account? = nil) async throws -> [DocumentListing] {
        let allowed = ShareRules.documentCategories(for: share.recipientKind, in: register)
        let found = if let owner { owner } else { try await Account.find(share.$account.id, on: database) }
        guard let account = found else { return [] }
        var documents = try await files.documents(of: account).filter { allowed.contains($0.category) && $0.status != .declined }
        if !share.wholeFile {
            let chosen = Set(try await chosenDocuments(of: share))
            documents = documents.filter { chosen.contains($0.id) }
        }
        return documents
    }

    /// Logs an access in the tenant's access log and in the audit trail, together, committed
    /// before the answer leaves (`AccessJournal`: group commit). `viewer`: the member of a
    /// recipient organisation who looked from its inbox (named in the log, sealed with the
    /// tenant's key; the audit trail names their account's subject).
    func record(_ action: ShareAccess.Action, through share: Share, document: DocumentListing? = nil,
                viewer: (account: Account, seen: ShareViewer)? = nil) async throws {
        let shareID = try share.requireID()
        let access = ShareAccess(shareID: shareID, at: clock.now, action: action, documentID: document?.id, documentType: document?.type)
        let accessID = UUID()
        access.id = accessID
        var details = ["share": shareID.uuidString.lowercased(), "action": action.rawValue]
        if let document { details["document"] = document.id.uuidString.lowercased() }
        var actor = "share:\(shareID.uuidString.lowercased())"
        if let viewer {
            access.viewer = try await vault.sealJSON(viewer.seen, for: share.subject, context: ShareViewer.context(accessID))
            actor = viewer.account.subject
            details["through"] = "organisation"
        }
        let event = AuditEvent(action: "share.accessed", subject: share.subject, purpose: "services", details: details)
        try await services.accessJournal.record(.init(access: access, event: event, actor: actor), on: database)
    }

    /// Who looked, for an access through an organisation's inbox.
    func viewer(of access: ShareAccess, share: Share) async throws -> ShareViewer? {
        guard let sealed = access.viewer else { return nil }
        return try await vault.openJSON(ShareViewer.self, sealed, for: share.subject, context: ShareViewer.context(access.requireID()))
    }

    /// The watermark of everything this link delivers.
    func watermark(for share: Share) async throws -> ShareWatermark {
        let details = try await details(of: share)
        return ShareWatermark(recipient: details.name, purpose: details.purpose, date: share.createdAt, link: share.reference,
                              language: share.language)
    }

    /// One document, watermarked, as a PDF: from the link's cache, else rendered (and cached).
    func rendition(of document: DocumentListing, through share: Share) async throws -> Data {
        try await cached(key: "document:\(document.id.uuidString.lowercased())", share: share) {
            let mark = try await watermark(for: share)
            let (parts, bytes) = try await self.parts(of: document)
            return (RenditionJob(mark: mark.mark, parts: parts), bytes)
        }
    }

    /// The whole shared file as one PDF: a cover page listing its contents, then each document.
    func wholeFile(_ documents: [DocumentListing], through share: Share) async throws -> Data {
        // What the cover says changes the key too: the documents, their review, the tenant's name.
        let owner = try await Account.find(share.$account.id, on: database)
        let listed = documents.map { "\($0.id.uuidString.lowercased())/\($0.status.rawValue)" }.joined(separator: ",")
        let key = "file:" + Digest.sha256Hex(Data("\(listed)|\(owner?.firstName ?? "")|\(owner?.lastName ?? "")".utf8))
        return try await cached(key: key, share: share) {
            let mark = try await watermark(for: share)
            var parts = [try await cover(documents, share: share, mark: mark)]
            var bytes: [Data] = []
            for document in documents {
                let (more, data) = try await self.parts(of: document)
                parts += more
                bytes += data
            }
            return (RenditionJob(mark: mark.mark, parts: parts), bytes)
        }
    }

    /// The whole shared file as a ZIP: each document's watermarked PDF, and the list of contents.
    func archive(_ documents: [DocumentListing], through share: Share) async throws -> Data {
        var zip = ZipArchive()
        let now = clock.now
        let mark = try await watermark(for: share)
        let contents = try await coverLines(documents, share: share, mark: mark)
        try zip.add("contents.txt", Data((contents.joined(separator: "\n") + "\n").utf8), date: now)
        for (index, document) in documents.enumerated() {
            let pdf = try await rendition(of: document, through: share)
            try zip.add(String(format: "%02d-%@.pdf", index + 1, document.type), pdf, date: now)
        }
        return try zip.finished()
    }

    /// The parts of a document's rendition: each of its files, decrypted for the renderer.
    private func parts(of document: DocumentListing) async throws -> ([RenditionJob.Part], [Data]) {
        let stored = try await DocumentFile.query(on: database).filter(\.$document.$id == document.id).sort(\.$position).all()
        var parts: [RenditionJob.Part] = []
        var bytes: [Data] = []
        for file in stored {
            let opened = try await files.open(file, of: document.subject)
            defer { opened.close() }
            var data = Data(capacity: file.size)
            while let piece = try opened.next() { data.append(piece) }
            parts.append(.file(kind: FileInspector.Kind(rawValue: file.kind) ?? .pdf, length: data.count))
            bytes.append(data)
        }
        return (parts, bytes)
    }

    private func coverLines(_ documents: [DocumentListing], share: Share, mark: ShareWatermark) async throws -> [String] {
        let words = SharingWording(share.language)
        let owner = try await Account.find(share.$account.id, on: database)
        var lines = [words.coverTitle(owner.map { "\($0.firstName) \($0.lastName)" } ?? ""), ""]
        lines += words.coverIntro(recipient: mark.recipient, purpose: mark.purpose, day: mark.day, link: mark.link, until: share.expiresAt)
        lines += ["", words.contents]
        let catalogue = services.catalogue
        for (index, document) in documents.enumerated() {
            let name = catalogue.name(of: document.type, in: share.language)
            lines.append("\(index + 1). \(name)\(document.guarantorID != nil ? words.ofGuarantor : "")\(document.status == .validated ? words.validated : "")")
        }
        return lines
    }

    private func cover(_ documents: [DocumentListing], share: Share, mark: ShareWatermark) async throws -> RenditionJob.Part {
        var lines = try await coverLines(documents, share: share, mark: mark)
        let title = lines.removeFirst()
        return .text(title: title, lines: lines, qr: nil, qrCaption: nil)
    }

    /// Whether the documents a rendition key names are all still in the file.
    private func stillShared(key: String, on db: any Database) async throws -> Bool {
        let ids = key.split(separator: ":").dropFirst().first.map { String($0) } ?? ""
        if key.hasPrefix("document:") {
            guard let id = UUID(uuidString: ids) else { return false }
            return try await Document.find(id, on: db) != nil
        }
        return true
    }

    /// What `key` renders for `share`: opened from the cache (sealed with the tenant's key), else
    /// made by `job`, rendered in `dossier-render`, sealed and kept for the life of the link.
    private func cached(key: String, share: Share, job: @Sendable () async throws -> (RenditionJob, [Data])) async throws -> Data {
        let shareID = try share.requireID()
        let context = ShareRendition.context(share: shareID, key: key)
        if let hit = try await ShareRendition.query(on: database).filter(\.$share.$id == shareID).filter(\.$key == key).first(),
           let sealed = try? await services.blobs.get(hit.blobKey) {
            return try await vault.open(sealed, for: share.subject, context: context)
        }
        let (renditionJob, bytes) = try await job()
        let renderer = services.renderer
        let pdf: Data
        do {
            pdf = try await services.renditions.run(in: share.language) { try renderer.render(renditionJob, files: bytes) }
        } catch is RenditionSandbox.TooLarge {
            throw Abort(.unprocessableEntity, reason: SharingWording(share.language).tooManyPages(RenditionJob.maximumPages, RenditionJob.maximumJobPages))
        } catch let failure as RenditionSandbox.Failure {
            logger.error("rendition failed: \(failure)")
            throw Abort(.internalServerError, reason: SharingWording(share.language).renditionFailed)
        }
        // Kept for next time; a failure to keep it costs a new rendering, nothing else.
        let blobKey = UUID().uuidString.lowercased()
        do {
            let sealed = try await vault.seal(pdf, for: share.subject, context: context)
            let now = clock.now
            try await BlobJournal.record([blobKey], .write, at: now, on: database)
            try await services.blobs.put(sealed, key: blobKey)
            let kept = try await database.transaction { db -> Bool in
                // Revoked, expired or its document deleted while it was rendered: not kept (the
                // revocation or the deletion already dropped what was cached).
                try await db.takeWriteLock()
                guard let current = try await Share.find(shareID, on: db), current.state(at: clock.now) != .revoked,
                      current.state(at: clock.now) != .expired, try await stillShared(key: key, on: db) else { return false }
                try await ShareRendition(shareID: shareID, key: key, blobKey: blobKey, size: sealed.count, now: now).create(on: db)
                try await BlobJournal.clear([blobKey], on: db)
                return true
            }
            if !kept { try await BlobJournal.completeDeletion(of: [blobKey], blobs: services.blobs, on: database) }
        } catch {
            // The journal's entry remains: recovery deletes the blob if no row names it.
            logger.notice("a rendition was not cached: \(String(reflecting: type(of: error)))")
        }
        return pdf
    }
}
