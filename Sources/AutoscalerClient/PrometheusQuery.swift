import AsyncHTTPClient
import AutoscalerAPI
import Foundation
import NIOCore
import NIOFoundationCompat

/// An instant PromQL query (`GET /api/v1/query`) that must give exactly one number, as KEDA's
/// Prometheus scaler asks: a vector of one series, or a scalar. No series (nothing scraped yet, a
/// misspelt metric) or several (a missing `sum`) is an error, never a guess.
public struct PrometheusQuery: MetricQuery {
    /// `http://host:port`, without a trailing slash (a path prefix is kept: Prometheus behind a
    /// proxy at `/prometheus`).
    public let baseURL: String
    public let query: String
    let client: HTTPClient
    /// Time allowed for one query; default 2 s (a tick waits for it).
    public var timeout: Duration = .seconds(2)

    public var location: String { "\(baseURL) \(query)" }

    /// Checks `url`; throws ``MetricQueryError`` when it is not an http(s) URL or the query is empty.
    public init(url: String, query: String, client: HTTPClient = BalancerAdminClient.sharedClient) throws {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), let host = parsed.host, !host.isEmpty,
            parsed.query == nil
        else {
            throw MetricQueryError("'\(url)' is not a Prometheus URL like http://127.0.0.1:9090")
        }
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw MetricQueryError("the PromQL query is empty") }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.query = query
        self.client = client
    }

    public func value() async throws -> Double {
        var components = URLComponents(string: baseURL + "/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: query)]
        // `+` is a space in a query string: PromQL's `a + b` must reach the server as a plus.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        var request = HTTPClientRequest(url: components.string!)
        request.headers.add(name: "Accept", value: "application/json")
        let data: Data
        let status: UInt
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            status = response.status.code
            data = Data(buffer: try await response.body.collect(upTo: 4 << 20))
        } catch {
            throw MetricQueryError("cannot reach Prometheus at \(baseURL): \(error)")
        }
        return try Self.value(of: data, status: status)
    }

    /// The one number in a `/api/v1/query` answer.
    public static func value(of data: Data, status: UInt = 200) throws(MetricQueryError) -> Double {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data) else {
            throw MetricQueryError("Prometheus answered \(status) with something that is not its API's JSON: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        guard answer.status == "success", let result = answer.data else {
            throw MetricQueryError("Prometheus refused the query (\(status)): \(answer.error ?? answer.errorType ?? "no reason given")")
        }
        let sample: [SampleValue]
        switch result {
        case .scalar(let pair):
            sample = pair
        case .vector(let series):
            guard series.count == 1 else {
                let labels = series.prefix(3).map { $0.metric.filter { $0.key != "__name__" }.map { "\($0)=\"\($1)\"" }.sorted().joined(separator: ",") }
                    .map { "{\($0)}" }
                throw MetricQueryError(
                    series.isEmpty
                        ? "the query gives no series (nothing scraped yet, or a misspelt metric; `… or vector(0)` makes none count as 0)"
                        : "the query gives \(series.count) series, not one (\(labels.joined(separator: " "))\(series.count > 3 ? " …" : "")): aggregate it, e.g. sum(…)")
            }
            sample = series[0].value
        case .other(let type):
            throw MetricQueryError("the query gives a \(type), not one number: use an instant vector or a scalar")
        }
        guard sample.count == 2, case .text(let text) = sample[1], let value = Double(text) else {
            throw MetricQueryError("the query's sample is not a [time, \"value\"] pair")
        }
        guard value.isFinite else { throw MetricQueryError("the query gives \(text), not a finite number") }
        return value
    }

    struct Answer: Decodable {
        var status: String
        var data: ResultData?
        var errorType: String?
        var error: String?
    }

    enum SampleValue: Decodable {
        case time(Double)
        case text(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) { self = .text(text) } else { self = .time(try container.decode(Double.self)) }
        }
    }

    struct Series: Decodable {
        var metric: [String: String]
        var value: [SampleValue]
    }

    enum ResultData: Decodable {
        case vector([Series])
        case scalar([SampleValue])
        case other(String)

        enum Keys: String, CodingKey { case resultType, result }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            let type = try container.decode(String.self, forKey: .resultType)
            switch type {
            case "vector": self = .vector(try container.decode([Series].self, forKey: .result))
            case "scalar": self = .scalar(try container.decode([SampleValue].self, forKey: .result))
            default: self = .other(type)
            }
        }
    }
}
