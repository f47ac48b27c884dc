import Vapor

/// Every route of the server, one controller per feature.
func routes(_ app: Application) throws {
    try app.register(collection: HealthController())
    try app.register(collection: MetricsController())
    try app.register(collection: GPCController())
    try app.register(collection: PrivacyController())
    try app.register(collection: RegisterController())
    try app.register(collection: OpenAPIController())
    try app.register(collection: AccountsController())
    try app.register(collection: SessionsController())
    try app.register(collection: WebController())
    try app.register(collection: RentalFileController())
    try app.register(collection: StaffController())
    try app.register(collection: FileWebController())
    try app.register(collection: SharesController())
    try app.register(collection: CertificatesController())
    try app.register(collection: OrganisationsController())
    try app.register(collection: OrganisationWebController())
    try app.register(collection: RightsController())
    try app.register(collection: RequestsController())
    try app.register(collection: RetentionController())
    try app.register(collection: SharingWebController())
}
