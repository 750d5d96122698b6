import HTTP

/// The responses for the page at `/` and its two assets (`/page.css`,
/// `/page.js`), built once from `PageAssets`. The page is self-contained: its
/// `Content-Security-Policy` lets it load only its own style sheet and script
/// and fetch only from lossd itself, with no inline code, frames, forms or
/// plugins.
enum PageResponse {
    /// Only this origin's style sheet, script and fetches (`/openapi.yaml`,
    /// `/metrics`, the losses); nothing inline; no embedding in a frame. The
    /// one image is the empty `data:` icon that keeps browsers from asking
    /// for /favicon.ico (a 404 in the console).
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private static let page = make(PageAssets.html, type: "text/html; charset=utf-8")
    private static let style = make(PageAssets.css, type: "text/css; charset=utf-8")
    private static let script = make(PageAssets.javascript, type: "text/javascript; charset=utf-8")

    /// The response for `route`, one of the page's three; any other route gets the page.
    static func response(for route: Route) -> Response {
        switch route {
        case .pageStyle: return style
        case .pageScript: return script
        default: return page
        }
    }

    private static func make(_ text: String, type: String) -> Response {
        var response = Response(status: .ok, body: Array(text.utf8))
        response.headers.add("Content-Type", type)
        response.headers.add("Content-Security-Policy", contentSecurityPolicy)
        response.headers.add("X-Content-Type-Options", "nosniff")
        response.headers.add("Referrer-Policy", "no-referrer")
        // Revalidated on each load, so a new binary's page is never mixed with an old script.
        response.headers.add("Cache-Control", "no-cache")
        return response
    }
}
