using System.Text.Json;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;

namespace Junction.Tests.Executable;

/// <summary>`junction checklist` (dry run) through the real executable against a stateful fake of Kit.</summary>
public sealed class ChecklistTests
{
    private static string Yaml(string storage, Uri kit, string apiKey, string form = """
          landing: { provider: form, redirect: "https://creator.example/thanks" }
        """) => $$"""
        storage: "{{storage}}"
        admin: { tokens: ["checklist-admin-token-0123456789"] }
        sources:
          stripe-main: { provider: stripe, secrets: ["whsec_checklist_secret"] }
        {{form}}
        tags: ["paid:course-pro", customer]
        products:
          course-pro:
            match: [{ source: stripe-main, price: price_pro }]
            tags_while_active: ["paid:course-pro", customer]
        destinations:
          kit-main:
            type: kit
            base_url: "{{kit}}"
            credentials: { api_key: "{{apiKey}}" }
            tags: { "paid:course-pro": "Paid: Course Pro", customer: "Customer" }
        """;

    [Fact]
    public async Task EverythingInPlace_IsAllTicks_Exit0_AndJsonSaysOk()
    {
        await using var kit = await FakeKit.StartAsync();
        kit.AddTag("Paid: Course Pro");
        kit.AddTag("Customer");
        var dir = TestStorage.NewTempDirectory();
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, Yaml(TestStorage.NewSqlite(), kit.BaseUrl, FakeKit.ApiKey));

        var (code, output) = await JunctionProcess.RunAsync(dir, null, "checklist", "--config", config);
        Assert.True(code == 0, output);
        Assert.Contains("✓ destination kit-main: credentials", output, StringComparison.Ordinal);
        Assert.Contains("✓ destination kit-main: mapped tags and courses", output, StringComparison.Ordinal);
        Assert.Contains("✓ landing pages", output, StringComparison.Ordinal);
        Assert.Contains("all checks passed", output, StringComparison.Ordinal);

        var (jsonCode, json) = await JunctionProcess.RunAsync(dir, null, "checklist", "--config", config, "--json");
        Assert.Equal(0, jsonCode);
        using var doc = JsonDocument.Parse(json[json.IndexOf('{', StringComparison.Ordinal)..]);
        Assert.True(doc.RootElement.GetProperty("ok").GetBoolean());
        Assert.All(doc.RootElement.GetProperty("checks").EnumerateArray(), c => Assert.True(c.GetProperty("ok").GetBoolean()));

        var (liveCode, live) = await JunctionProcess.RunAsync(dir, null, "checklist", "--config", config, "--live");
        Assert.Equal(1, liveCode); // no smoke: section, so the live run cannot happen: said, not pretended
        Assert.Contains("✗ live smoke run", live, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_MissingTag_NoFormSource_AndAPausedDestination_AreEachACrossWithItsFix_Exit1()
    {
        await using var kit = await FakeKit.StartAsync();
        kit.AddTag("Customer"); // "Paid: Course Pro" was never created in Kit
        var dir = TestStorage.NewTempDirectory();
        var storage = TestStorage.NewSqlite();
        var wrong = Path.Combine(dir, "wrong.yaml");
        var right = Path.Combine(dir, "right.yaml");
        await File.WriteAllTextAsync(wrong, Yaml(storage, kit.BaseUrl, "not-the-kit-key", form: ""));
        await File.WriteAllTextAsync(right, Yaml(storage, kit.BaseUrl, FakeKit.ApiKey, form: ""));
        var (pauseCode, pauseOut) = await JunctionProcess.RunAsync(dir, null, "pause", "kit-main", "--config", right, "--reason", "migrating lists");
        Assert.True(pauseCode == 0, pauseOut);

        var (code, output) = await JunctionProcess.RunAsync(dir, null, "checklist", "--config", wrong);
        Assert.Equal(1, code);
        Assert.Contains("✗ destination kit-main: credentials", output, StringComparison.Ordinal);
        Assert.Contains("fix: check destinations.kit-main.credentials", output, StringComparison.Ordinal);
        Assert.Contains("✗ landing pages", output, StringComparison.Ordinal);
        Assert.Contains("✗ destinations: paused: kit-main (migrating lists)", output, StringComparison.Ordinal);

        var (rightCode, rightOut) = await JunctionProcess.RunAsync(dir, null, "checklist", "--config", right);
        Assert.Equal(1, rightCode);
        Assert.Contains("✗ destination kit-main: mapped tags and courses: missing: tag 'Paid: Course Pro'", rightOut, StringComparison.Ordinal);
        Assert.Contains("✓ destination kit-main: credentials", rightOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInvalidConfig_IsACrossNamingTheKey_Exit1()
    {
        var dir = TestStorage.NewTempDirectory();
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, "storage: \"sqlite:./x.db\"\nsources:\n  s: { provider: nope }\n");
        var (code, output) = await JunctionProcess.RunAsync(dir, null, "checklist", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("✗ config: sources.s.provider", output, StringComparison.Ordinal);
    }
}
