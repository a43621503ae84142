using System.Text.Json;
using Junction.Alerts;
using Junction.Config;
using Junction.Storage;
using Junction.Tests.Alerts;
using Junction.Tests.Support;

namespace Junction.Tests.Executable;

/// <summary>`junction incidents list|show|ack|rollback|resolve` through the real executable, on an incident the evaluator opened.</summary>
public sealed class IncidentCliTests
{
    private static string Yaml(string storage) => $$"""
        storage: "{{storage}}"
        admin: { tokens: ["incident-cli-admin-token-0123456789"] }
        sources:
          stripe-main: { provider: stripe, secrets: ["whsec_incident_cli_secret"] }
        products:
          course-pro:
            match: [{ source: stripe-main, price: price_123 }]
        destinations:
          teachable-main:
            type: teachable
            base_url: "http://127.0.0.1:9/"
            credentials: { api_key: "teachable-key-0123456789" }
            courses: { course-pro: "101" }
        alerts:
          payment_failures: { enabled: false }
          enrollments_down: { enabled: false }
          ingestion_down: { enabled: false }
          reconciliation_low: { enabled: false }
          dlq_growing: { enabled: false }
          source_silent: { enabled: false }
          audit_over_threshold: { enabled: false }
        runbooks:
          smoke_failing:
            rollback: { pause: teachable-main }
            fallback: "Grant access by hand in Teachable"
        """;

    [Fact]
    public async Task Incidents_ListShowAckRollbackResolve_FromTheCli_WithExitCodes()
    {
        var dir = TestStorage.NewTempDirectory();
        var path = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(path, Yaml(TestStorage.NewSqlite()));
        string id;
        await using (var kit = await AlertKit.StartAsync(ConfigLoader.LoadFile(path)))
        {
            await kit.SmokeAsync("failed");
            await kit.EvaluateAsync();
            id = (await kit.SingleIncidentAsync(AlertRules.SmokeFailing)).Id;
        }

        async Task<(int Code, string Output)> Run(params string[] args) => await JunctionProcess.RunAsync(dir, null, ["incidents", .. args, "--config", path]);

        var (code, output) = await Run("list");
        Assert.True(code == 0, output);
        Assert.Contains(id, output, StringComparison.Ordinal);
        Assert.Contains("smoke_failing (smoke)", output, StringComparison.Ordinal);

        (code, output) = await Run("show", id);
        Assert.True(code == 0, output);
        Assert.Contains("rollback: pause: teachable-main", output, StringComparison.Ordinal);
        Assert.Contains("fired:", output, StringComparison.Ordinal);

        (code, output) = await Run("ack", id, "--note", "looking");
        Assert.True(code == 0, output);
        (code, output) = await Run("ack", id);
        Assert.True(code == 1, output);
        Assert.Contains("is acknowledged", output, StringComparison.Ordinal);

        (code, output) = await Run("rollback", id);
        Assert.True(code == 0, output);
        Assert.Contains("paused teachable-main", output, StringComparison.Ordinal);

        (code, output) = await Run("resolve", id);
        Assert.True(code == 2, output);
        Assert.Contains("--note", output, StringComparison.Ordinal);
        (code, output) = await Run("resolve", id, "--note", "processor fixed");
        Assert.True(code == 0, output);

        (code, output) = await Run("show", id, "--json");
        Assert.True(code == 0, output);
        using (var json = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]))
        {
            Assert.Equal("resolved", json.RootElement.GetProperty("status").GetString());
            var kinds = json.RootElement.GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("kind").GetString()).ToList();
            Assert.Equal(["fired", "ack", "action", "resolve"], kinds);
            Assert.StartsWith("cli:", json.RootElement.GetProperty("timeline")[1].GetProperty("actor").GetString(), StringComparison.Ordinal);
        }

        await using (var store = StoreFactory.Open(ConfigLoader.LoadFile(path).Storage, TimeProvider.System))
        {
            Assert.Contains(await store.ListDestinationControlAsync(CancellationToken.None), c => c.Destination == "teachable-main" && c.Paused);
        }

        (code, output) = await Run("show", "inc_nope");
        Assert.True(code == 1, output);
        (code, _) = await JunctionProcess.RunAsync(dir, null, "incidents", "list", "--config", Path.Combine(dir, "missing.yaml"));
        Assert.Equal(2, code);
    }
}
