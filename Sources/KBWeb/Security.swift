import Foundation
import HTTPTypes
import Hummingbird
import KBCore

/// The rules every request passes before a page or the API sees it (docs/WEB.md, "Security").
///
/// - Host: bound to a loopback address, the `Host` header must name a loopback host
///   (`localhost`, `127.x.x.x`, `[::1]`), so a DNS name rebound to 127.0.0.1 reaches nothing.
/// - Token: with `--token-file`, every request carries the token: `Authorization: Bearer …`,
///   or the `kb_token` cookie that `/?token=…` sets once.
/// - Forms (`application/x-www-form-urlencoded`) carry the CSRF token in a hidden `csrf` field.
/// - The JSON API takes only `application/json` bodies, and an `Origin`, when sent, must be this
///   server's own.
/// - Every response carries a strict Content-Security-Policy and `X-Content-Type-Options`.
public struct WebSecurity: Sendable {
  /// Required on every request when set.
  public var token: String?
  /// The CSRF token embedded in every form (random per server start).
  public var csrf: String
  /// Whether the server listens on a loopback address only.
  public var loopback: Bool
  /// Extra host names accepted in `Host` (besides the loopback ones), lowercased.
  public var allowedHosts: Set<String>

  public init(token: String?, csrf: String = WebSecurity.randomToken(), loopback: Bool = true, allowedHosts: Set<String> = []) {
    self.token = token
    self.csrf = csrf
    self.loopback = loopback
    self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
  }

  public static let contentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

  public static func randomToken() -> String {
    var g = SystemRandomNumberGenerator()
    return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
  }

  /// The host part of an authority (`host:port`, `[::1]:port`), lowercased.
  public static func hostName(_ authority: String) -> String {
    var a = authority.lowercased()
    if a.hasPrefix("[") {
      if let close = a.firstIndex(of: "]") { return String(a[...close]) }
      return a
    }
    if let colon = a.lastIndex(of: ":") { a = String(a[..<colon]) }
    return a
  }

  public static func isLoopbackHost(_ host: String) -> Bool { Loopback.isLoopback(host) }

  /// Whether a request's `Host` may reach this server.
  public func allows(authority: String?) -> Bool {
    guard let authority, !authority.isEmpty else { return false }
    let host = Self.hostName(authority)
    if allowedHosts.contains(host) { return true }
    // Bound to another address, the token (required there) guards instead.
    return loopback ? Self.isLoopbackHost(host) : true
  }

  /// Whether an `Origin` header names this server (same host and port as `Host`).
  public static func sameOrigin(_ origin: String, authority: String?) -> Bool {
    guard let authority else { return false }
    let lowered = origin.lowercased()
    return lowered == "http://" + authority.lowercased() || lowered == "https://" + authority.lowercased()
  }

  /// Compares in time independent of where the strings differ.
  public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
  }

  /// The token a request carries, from `Authorization: Bearer`, else the `kb_token` cookie.
  static func presentedToken(_ request: Request) -> String? {
    if let auth = request.headers[.authorization], auth.lowercased().hasPrefix("bearer ") {
      return String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }
    return cookie("kb_token", in: request)
  }

  static func cookie(_ name: String, in request: Request) -> String? {
    for header in request.headers[values: .cookie] {
      for part in header.split(separator: ";") {
        let pair = part.trimmingCharacters(in: .whitespaces)
        if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
      }
    }
    return nil
  }
}

/// Applies ``WebSecurity`` to every request and adds the security headers to every response.
struct SecurityMiddleware<Context: RequestContext>: RouterMiddleware {
  let security: WebSecurity

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    let wantsJSON = request.uri.path.hasPrefix("/api/")
    guard security.allows(authority: request.head.authority) else {
      return Self.secured(Errors.response(
        status: .misdirectedRequest, json: wantsJSON,
        message: "This server answers only to a loopback host name (localhost, 127.0.0.1), not '\(request.head.authority ?? "")'."))
    }
    if let token = security.token {
      if let given = request.query.text("token"), request.method == .get, !wantsJSON {
        guard WebSecurity.constantTimeEqual(given, token) else {
          return Self.secured(Errors.response(status: .unauthorized, json: false, message: "That token is not this server's."))
        }
        // Trade the token in the address for a cookie, and drop it from the address bar.
        var response = Response(status: .seeOther)
        response.headers[.location] = request.uri.path
        response.headers[.setCookie] = "kb_token=\(token); Path=/; HttpOnly; SameSite=Strict"
        return Self.secured(response)
      }
      guard let given = WebSecurity.presentedToken(request), WebSecurity.constantTimeEqual(given, token) else {
        return Self.secured(Errors.response(
          status: .unauthorized, json: wantsJSON,
          message: "This server needs its token: open the address with ?token=… once, or send 'Authorization: Bearer …'."))
      }
    }
    if request.method == .post {
      if let origin = request.headers[.origin], origin != "null" || wantsJSON,
        !WebSecurity.sameOrigin(origin, authority: request.head.authority)
      {
        return Self.secured(Errors.response(
          status: .forbidden, json: wantsJSON, message: "Cross-origin request refused (Origin: \(origin))."))
      }
      let type = (request.headers[.contentType] ?? "").lowercased()
      let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
      if wantsJSON {
        guard media == "application/json" else {
          return Self.secured(Errors.response(
            status: .unsupportedMediaType, json: true,
            message: "The API takes only 'Content-Type: application/json' bodies (JSON lines too), not '\(type)'."))
        }
      } else {
        guard media == "application/x-www-form-urlencoded" else {
          return Self.secured(Errors.response(
            status: .unsupportedMediaType, json: false, message: "Forms are posted as application/x-www-form-urlencoded, not '\(type)'."))
        }
      }
    }
    let started = ContinuousClock.now
    var response = try await next(request, context)
    // The time this server spent on the request (docs/BENCHMARKS.md reads it).
    let elapsed = ContinuousClock.now - started
    let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    response.headers[.serverTiming] = "app;dur=" + String(format: "%.2f", ms)
    return Self.secured(response)
  }

  static func secured(_ response: Response) -> Response {
    var response = response
    response.headers[.contentSecurityPolicy] = WebSecurity.contentSecurityPolicy
    response.headers[.xContentTypeOptions] = "nosniff"
    response.headers[.referrerPolicy] = "no-referrer"
    response.headers[.xFrameOptions] = "DENY"
    if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
    return response
  }
}

extension HTTPField.Name {
  static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
  static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
  static let serverTiming = HTTPField.Name("Server-Timing")!
}
