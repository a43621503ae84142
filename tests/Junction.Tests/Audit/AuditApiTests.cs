using System.Net;
using System.Net.Http.Json;
using Junction.Tests.Support;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Audit;

/// <summary>The audit stage through the real server: start, report in the contract's shape, accept a finding.</summary>
public abstract class AuditApiTests : IAsyncLifetime
{
    private JunctionServer? _server;

    private JunctionServer Server => _server!;

    protected abstract Task<string> StorageAsync();

    public async ValueTask InitializeAsync() => _server = await JunctionServer.StartAsync(Project.ProjectKit.Config(await StorageAsync()));

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Audit_ReportsEveryPointInTheContractShape_AndAnAcceptedFindingIsNotReportedAgain()
    {
        var now = TimeProvider.System.GetUtcNow();
        var at = Observability.Iso.Utc(now.AddHours(-2));
        await PostEventAsync(Server, OptIn("lead@example.com", Observability.Iso.Utc(now.AddHours(-3)), utm: "ig"));
        await PostEventAsync(Server, Paid("ord_lead", "lead@example.com", at));
        await PostEventAsync(Server, Paid("ord_cold", "cold@example.com", at));
        await PersonAsync(Server, "/v1/people?email=cold@example.com", p => Has(p, "course-pro", "active"));
        await PersonAsync(Server, "/v1/people?email=lead@example.com", p => Has(p, "course-pro", "active"));

        var report = await AuditKit.RunAsync(Server.Admin);
        Assert.Equal("completed", report.GetProperty("status").GetString());
        Assert.True(report.GetProperty("window").TryGetProperty("from", out _));
        var points = report.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(["capture_misrouting", "payment_attribution_gaps", "paid_without_access", "duplicate_or_delayed_tags", "refund_leaks"],
            points.Select(p => p.GetProperty("name").GetString()));
        Assert.All(points, p =>
        {
            foreach (var field in new[] { "point", "checked", "mismatches", "rate", "threshold", "severity", "revenue_at_risk", "findings" }) Assert.True(p.TryGetProperty(field, out _), field);
        });

        var gaps = points[1];
        Assert.Equal((2, 1), (gaps.GetProperty("checked").GetInt32(), gaps.GetProperty("mismatches").GetInt32()));
        Assert.Equal(4900, gaps.GetProperty("revenue_at_risk").GetProperty("USD").GetInt64());
        var findings = gaps.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(["no_first_touch", "no_prior_lead"], findings.Select(f => f.GetProperty("kind").GetString()).Order(StringComparer.Ordinal));
        Assert.All(findings, f => Assert.Equal("ord_cold", f.GetProperty("order_id").GetString()));
        var finding = findings[0];
        foreach (var field in new[] { "person_id", "order_id", "destination", "expected", "observed", "heal" }) Assert.True(finding.TryGetProperty(field, out _), field);
        Assert.Equal(("review", "report_only"), (finding.GetProperty("heal").GetProperty("action").GetString(), finding.GetProperty("heal").GetProperty("status").GetString()));

        using (var missingNote = await Server.Admin.PostAsJsonAsync($"/v1/audits/findings/{finding.GetProperty("id").GetInt64()}/accept", new { note = "" }))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, missingNote.StatusCode);
            Assert.Contains("note", await missingNote.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var accept = await Server.Admin.PostAsJsonAsync($"/v1/audits/findings/{finding.GetProperty("id").GetInt64()}/accept", new { note = "a known direct buyer" }))
        {
            Assert.Equal(HttpStatusCode.OK, accept.StatusCode);
        }
        using (var unknown = await Server.Admin.PostAsJsonAsync("/v1/audits/findings/999999/accept", new { note = "x" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var again = (await AuditKit.RunAsync(Server.Admin)).GetProperty("points")[1];
        var left = Assert.Single(again.GetProperty("findings").EnumerateArray());
        Assert.NotEqual(finding.GetProperty("kind").GetString(), left.GetProperty("kind").GetString());

        var metrics = await Server.Client.GetStringAsync("/metrics");
        Assert.Contains("junction_audit_mismatches{", metrics, StringComparison.Ordinal);
        Assert.Contains("junction_audit_checked{", metrics, StringComparison.Ordinal);
        Assert.Contains("point=\"payment_attribution_gaps\"", metrics, StringComparison.Ordinal);
        Assert.Matches(@"junction_reconciliation_rate\{[^}]*\} 0\.5\b", metrics); // one paid order of two had a lead first

        var list = await GetJsonAsync(Server.Admin, "/v1/audits");
        Assert.Equal(2, list.GetProperty("items").GetArrayLength());

        // The acceptance (not the refused or unknown ones) and both runs are in the operations log.
        var operations = (await GetJsonAsync(Server.Admin, "/v1/operations")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["audits.run", "audits.findings.accept", "audits.run"], operations.Select(o => o.GetProperty("action").GetString()));
        Assert.Equal(finding.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), operations[1].GetProperty("target").GetString());
        Assert.Equal("a known direct buyer", operations[1].GetProperty("detail").GetProperty("note").GetString());
    }

    [Fact]
    public async Task AuditRoutes_NeedTheAdminToken_AndBadBodiesAre4xxNamingTheField()
    {
        using (var anonymous = await Server.Client.PostAsync("/v1/audits", null)) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var anonymous = await Server.Client.GetAsync("/v1/audits")) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var bad = await Server.Admin.PostAsJsonAsync("/v1/audits", new { since = "soon" }))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
            Assert.Contains("since", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var notJson = await Server.Admin.PostAsync("/v1/audits", new StringContent("{\"since\":", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        }
        using var missing = await Server.Admin.GetAsync("/v1/audits/aud_nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

}

// Exact /metrics values: scraped alone (every live server's meters show in every scrape).
[Collection(Junction.Tests.Telemetry.ScrapedAlone.Name)]
public sealed class SqliteAuditApiTests : AuditApiTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

// Exact /metrics values: scraped alone (every live server's meters show in every scrape).
[Collection(Junction.Tests.Telemetry.ScrapedAlone.Name)]
public sealed class PostgresAuditApiTests : AuditApiTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
