import AutoscalerAPI
import HAProxyRuntime
import Testing

/// `show stat` as HAProxy 2.6.12 printed it (columns cut after `addr`'s neighbours are kept by
/// name, not position).
@Suite("show stat parsing")
struct ShowStatTests {
    static let header =
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr"
    static func row(_ px: String, _ sv: String, qcur: Int = 0, scur: Int = 0, econ: Int = 0, eresp: Int = 0, status: String, sid: Int, req: Int, addr: String = "")
        -> String
    {
        var fields = Array(repeating: "", count: 74)
        fields[0] = px; fields[1] = sv; fields[2] = "\(qcur)"; fields[4] = "\(scur)"; fields[13] = "\(econ)"; fields[14] = "\(eresp)"
        fields[17] = status; fields[28] = "\(sid)"; fields[48] = "\(req)"; fields[73] = addr
        return fields.joined(separator: ",")
    }
    static let csv = [
        header,
        row("fe", "FRONTEND", status: "OPEN", sid: 0, req: 900),
        row("web", "static1", status: "UP", sid: 1, req: 500, addr: "127.0.0.1:18081"),
        row("web", "web_vm3", qcur: 1, scur: 2, econ: 1, eresp: 2, status: "UP 1/2", sid: 100_000, req: 300, addr: "127.0.0.1:18083"),
        row("web", "web_vm4", status: "MAINT", sid: 100_001, req: 0, addr: "127.0.0.1:18084"),
        row("web", "web_vm5", status: "DRAIN", sid: 100_002, req: 99, addr: "127.0.0.1:18085"),
        row("web", "web_vm6", status: "DOWN", sid: 100_003, req: 1, addr: "127.0.0.1:18086"),
        row("web", "BACKEND", status: "UP", sid: 0, req: 900),
        row("other", "x", status: "UP", sid: 1, req: 5),
        "",
    ].joined(separator: "\n")

    @Test func theBackendsCountersAndServers() throws {
        let stat = try ShowStat(csv: Self.csv, backend: "web")
        #expect(stat.backendFound && stat.requestsTotal == 900)
        let stats = stat.balancerStats
        #expect(stats.requestsTotal == 900 && stats.latency == nil)
        #expect(stats.backends.map(\.name) == ["static1", "web_vm3", "web_vm4", "web_vm5", "web_vm6"])
        #expect(stats.backends.map(\.state) == [.active, .active, .down, .draining, .down])
        #expect(stats.backends.map(\.healthy) == [true, true, false, true, false])
        let vm3 = try #require(stats.backends.first { $0.name == "web_vm3" })
        #expect(vm3.inFlight == 3 && vm3.failuresTotal == 3 && vm3.requestsTotal == 300 && vm3.address == "127.0.0.1:18083")
        #expect(stat.servers.map(\.id) == [1, 100_000, 100_001, 100_002, 100_003])
    }

    @Test func aMissingBackendOrForeignTextIsSaid() throws {
        #expect(try ShowStat(csv: Self.csv, backend: "nope").backendFound == false)
        #expect(throws: AutoscalerError.self) { try ShowStat(csv: "Permission denied\n", backend: "web") }
        #expect(throws: AutoscalerError.self) { try ShowStat(csv: "# pxname,svname\n", backend: "web") }
    }

    @Test(arguments: [
        ("haproxy:/run/haproxy/admin.sock", "haproxy:/run/haproxy/admin.sock"),
        ("haproxy://127.0.0.1:9999", "haproxy://127.0.0.1:9999"),
        ("haproxy://[::1]:9999", "haproxy://[::1]:9999"),
    ])
    func addresses(url: String, described: String) throws {
        #expect(try HAProxyAddress(url: url).description == described)
    }

    @Test(arguments: ["haproxy:", "haproxy:relative.sock", "haproxy://host", "haproxy://:80", "haproxy://h:0", "haproxy://h:99999", "http://x"])
    func badAddresses(url: String) {
        #expect(throws: AutoscalerError.self) { try HAProxyAddress(url: url) }
    }
}
