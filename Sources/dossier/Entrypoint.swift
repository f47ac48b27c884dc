import ArgumentParser
import DossierCLI

@main
extension Dossier {}
