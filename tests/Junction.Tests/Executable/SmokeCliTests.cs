using System.Net.Http.Json;
using System.Text.Json;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;

namespace Junction.Tests.Executable;

/// <summary>`junction smoke` and `junction checklist --live` through the real executable, against a running `junction serve` and a stateful fake of Kit.</summary>
public sealed class SmokeCliTests
{
    private static string Yaml(string storage, Uri kit, int port, bool smoke = true) => $$"""
        storage: "{{storage}}"
        admin: { tokens: ["smoke-cli-admin-token-0123456789"] }
        sources:
          stripe-main: { provider: stripe, secrets: ["whsec_smoke_cli_secret"] }
          landing: { provider: form }
        tags: ["paid:course-pro", customer]
        products:
          course-pro:
            match: [{ source: stripe-main, sku: course-pro }]
            tags_while_active: ["paid:course-pro", customer]
        destinations:
          kit-main:
            type: kit
            base_url: "{{kit}}"
            credentials: { api_key: "{{FakeKit.ApiKey}}" }
            tags: { "paid:course-pro": "Paid: Course Pro", customer: "Customer" }
        {{(smoke ? $$"""
        smoke:
          schedule: "off"
          source: stripe-main
          product: course-pro
          email: "smoke+{run}@creator.example"
          step_timeout: 20s
          url: "http://127.0.0.1:{{port}}"
        """ : "")}}
        """;

    [Fact]
    public async Task Smoke_PassesAgainstARunningServe_Exit0_ChecklistLiveTicks_AndAPausedKitFailsTheNamedStep_Exit1()
    {
        await using var kit = await FakeKit.StartAsync();
        kit.AddTag("Paid: Course Pro");
        kit.AddTag("Customer");
        var dir = TestStorage.NewTempDirectory();
        var port = JunctionProcess.FreePort();
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, Yaml(TestStorage.NewSqlite(), kit.BaseUrl, port));
        using var serve = JunctionProcess.Start(dir, null, "serve", "--config", config, "--urls", $"http://127.0.0.1:{port}");
        await serve.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}"));

        var (code, output) = await JunctionProcess.RunAsync(dir, null, "smoke", "--config", config);
        Assert.True(code == 0, output);
        Assert.Contains("✓ paid_tag_and_enrollment: the purchase read back at kit-main", output, StringComparison.Ordinal);
        Assert.Contains("every step held", output, StringComparison.Ordinal);

        var (liveCode, live) = await JunctionProcess.RunAsync(dir, null, "checklist", "--config", config, "--live", "--json");
        Assert.True(liveCode == 0, live);
        using (var doc = JsonDocument.Parse(live[live.IndexOf('{', StringComparison.Ordinal)..]))
        {
            Assert.Contains(doc.RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("check").GetString() == "live smoke run" && c.GetProperty("ok").GetBoolean());
        }

        var (pauseCode, pauseOut) = await JunctionProcess.RunAsync(dir, null, "pause", "kit-main", "--config", config, "--reason", "smoke test");
        Assert.True(pauseCode == 0, pauseOut);
        var (failCode, failed) = await JunctionProcess.RunAsync(dir, null, "smoke", "--config", config);
        Assert.Equal(1, failCode);
        Assert.Contains("failed at lead_at_email_platform", failed, StringComparison.Ordinal);
        Assert.Contains("kit-main is paused", failed, StringComparison.Ordinal);

        // Each run (the checklist's too) and the pause are in the operations log, as the command line's.
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "smoke-cli-admin-token-0123456789");
        var operations = (await admin.GetFromJsonAsync<JsonElement>("/v1/operations")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["smoke.run", "destinations.pause", "smoke.run", "smoke.run"], operations.Select(o => o.GetProperty("action").GetString()));
        Assert.All(operations, o => Assert.Equal("cli", o.GetProperty("actor").GetString()));
        Assert.Equal([false, true, true], operations.Where(o => o.GetProperty("action").GetString() == "smoke.run")
            .Select(o => o.GetProperty("detail").GetProperty("passed").GetBoolean()));
    }

    [Fact]
    public async Task Smoke_WithoutASmokeSection_IsAConfigError_Exit2()
    {
        var dir = TestStorage.NewTempDirectory();
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, Yaml(TestStorage.NewSqlite(), new Uri("http://127.0.0.1:9"), 9, smoke: false));
        var (code, output) = await JunctionProcess.RunAsync(dir, null, "smoke", "--config", config);
        Assert.Equal(2, code);
        Assert.Contains("smoke: not configured", output, StringComparison.Ordinal);
    }
}
