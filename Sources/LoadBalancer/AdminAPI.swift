import APISupport
import AutoscalerAPI
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import ServiceLifecycle

/// The admin API on Hummingbird (its wire types are in `AutoscalerAPI`, `BackendStatus.swift`): `/metrics`, `/api/v1/stats`, `/api/v1/backends`.
///
/// Mutating calls need `Authorization: Bearer <token>` when a token is configured (the
/// `loadbalancer` command always configures one). Every request passes a ``LocalRequestPolicy``
/// first (Host, Origin, JSON bodies). Errors are JSON: `{"error": "..."}`.
struct AdminAPI {
    let balancer: LoadBalancer

    var application: some ApplicationProtocol & Service {
        let router = Router()
        let balancer = self.balancer
        router.add(middleware: LocalRequestMiddleware(policy: LocalRequestPolicy(listenHost: balancer.configuration.adminHost)))
        router.get("/metrics") { _, _ -> Response in
            APIResponse.metrics(balancer.metrics.render(balancer: balancer))
        }
        router.get("/api/v1/stats") { _, _ -> Response in
            try APIResponse.json(balancer.stats)
        }
        router.get("/api/v1/backends") { _, _ -> Response in
            try APIResponse.json(BackendList(backends: balancer.pool.all.map(\.snapshot)))
        }
        router.put("/api/v1/backends/:name") { request, context -> Response in
            if let refusal = APIResponse.authorize(request, token: balancer.configuration.adminToken) { return refusal }
            let name = try context.parameters.require("name")
            guard InstanceNaming.isValid(name) else { return try APIResponse.error(.badRequest, "invalid backend name '\(name)'") }
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let registration = try? JSONDecoder().decode(BackendRegistration.self, from: body) else {
                return try APIResponse.error(.badRequest, #"body must be {"address": "host:port"}"#)
            }
            guard let endpoint = Endpoint(registration.address) else {
                return try APIResponse.error(.badRequest, "address must be host:port, got '\(registration.address)'")
            }
            let changed = await balancer.register(name: name, endpoint: endpoint)
            guard let backend = balancer.pool.backend(named: name) else { return try APIResponse.error(.conflict, "\(name) was removed meanwhile") }
            return try APIResponse.json(backend.snapshot, status: changed ? .created : .ok)
        }
        router.delete("/api/v1/backends/:name") { request, context -> Response in
            if let refusal = APIResponse.authorize(request, token: balancer.configuration.adminToken) { return refusal }
            let name = try context.parameters.require("name")
            guard let draining = balancer.drain(name: name) else { return try APIResponse.error(.notFound, "no backend named '\(name)'") }
            return try APIResponse.json(draining, status: .accepted)
        }
        let configuration = balancer.configuration
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.adminHost, port: configuration.adminPort), serverName: nil),
            onServerRunning: { channel in
                balancer.adminPort.withLock { $0 = channel.localAddress?.port }
                balancer.logger.info("admin API listening", metadata: ["address": "\(configuration.adminHost):\(channel.localAddress?.port ?? 0)"])
            },
            logger: Logger(label: "loadbalancer.admin"))
    }
}
