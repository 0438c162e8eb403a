import Foundation
import HTTPTypes
import Hummingbird
import KBCore
import KBWorkspace
import KBWorkspaceGit

/// A request the web interface refuses, with the status and the message people read.
public struct WebError: Error, Sendable {
  public var status: HTTPResponse.Status
  public var message: String
  public init(_ status: HTTPResponse.Status, _ message: String) {
    self.status = status
    self.message = message
  }
}

/// Turns errors into the CLI's clear messages, as an HTML page or `{"error": …}` with the right status.
enum Errors {
  /// The status and message for an error from a workspace operation.
  static func classify(_ error: any Error) -> (HTTPResponse.Status, String) {
    switch error {
    case let e as WebError:
      return (e.status, e.message)
    case let e as WorkspaceError:
      switch e {
      case .documentNotFound: return (.notFound, e.description)
      case .ambiguousID, .alreadyExists: return (.conflict, e.description)
      case .pathOutsideKnowledgeBase: return (.forbidden, e.description)
      case .invalidInput: return (.badRequest, e.description)
      case .unreadable, .invalidDocument: return (.unprocessableContent, e.description)
      default: return (.internalServerError, e.description)
      }
    case let e as CaseError:
      switch e {
      case .heldUnknown, .heldContradiction, .unknownKind, .invalidDelay: return (.badRequest, e.description)
      default: return (.conflict, e.description)
      }
    case let e as MentionError:
      return (.badRequest, e.message)
    case let e as QueryError:
      return (.badRequest, e.description)
    case let e as CustomStringConvertible:
      return (.internalServerError, e.description)
    default:
      return (.internalServerError, "\(error)")
    }
  }

  struct Body: Codable { var error: String; var status: Int }

  static func response(status: HTTPResponse.Status, json: Bool, message: String) -> Response {
    if json {
      return JSONOut.response(Body(error: message, status: status.code), status: status)
    }
    let page = Layout.page(
      title: "\(status.code) \(status.reasonPhrase)", active: nil, csrf: nil,
      body: """
        <section class="error-page"><h1>\(status.code) \(status.reasonPhrase)</h1>
        <p class="error" role="alert">\(message)</p>
        <p><a href="/">Back to the queue</a></p></section>
        """)
    return Layout.response(page, status: status)
  }

  static func response(for error: any Error, json: Bool) -> Response {
    let (status, message) = classify(error)
    return response(status: status, json: json, message: message)
  }
}

/// JSON bodies: sorted keys, ISO 8601 dates, as the CLI's `--json`.
enum JSONOut {
  static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .iso8601
    return e
  }

  static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? encoder().encode(value)) ?? Data("{\"error\":\"could not encode the result\"}".utf8)
    var headers = HTTPFields()
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}
