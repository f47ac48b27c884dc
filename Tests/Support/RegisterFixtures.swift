import DossierCore

extension Register {
    /// The register with an operator's own identity in place of the example's: what a
    /// production instance accepts.
    public func withOwnIdentity() -> Register {
        var own = self
        own.controller.name = "Bailleur Ami SAS"
        own.controller.registration = "RCS Lyon 812 345 678"
        own.controller.email = "privacy@bailleur-ami.fr"
        own.controller.website = "https://www.bailleur-ami.fr"
        own.controller.address = "3 quai Saint-Antoine, 69002 Lyon"
        own.dpo.email = "dpo@bailleur-ami.fr"
        own.dpo.address = "3 quai Saint-Antoine, 69002 Lyon"
        own.processors = own.processors.map { var processor = $0; processor.name = "Prestataire \(processor.id) SAS"; return processor }
        return own
    }
}

/// The `<li>` of a right on a rendered policy page (`id="right-ID"`), up to its end.
public func rightItem(_ id: String, in page: String) -> String? {
    page.components(separatedBy: "id=\"right-\(id)\"").dropFirst().first?.components(separatedBy: "</li>").first
}
