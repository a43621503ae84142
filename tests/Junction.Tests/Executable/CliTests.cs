using Junction.Tests.Support;

namespace Junction.Tests.Executable;

/// <summary>The executable's verbs, run as a user would run them.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Serve_WithNoConfigFile_StartsTheDemo_AndItsFirstLogLineSaysSo()
    {
        var dir = TestStorage.NewTempDirectory();
        var port = JunctionProcess.FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        using var junction = JunctionProcess.Start(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = null },
            "serve", "--urls", $"http://127.0.0.1:{port}");
        await junction.WaitHealthyAsync(baseAddress);

        Assert.Contains("built-in demo configuration", junction.Output[0], StringComparison.Ordinal);
        Assert.Contains("loopback only", junction.Output[0], StringComparison.Ordinal);
        // The first line lists every source the demo really has, not a hand-picked few.
        var demo = Junction.Config.DemoConfig.Create(_ => null);
        Assert.All(demo.Sources.Keys, id => Assert.Matches($@"[:,] {System.Text.RegularExpressions.Regex.Escape(id)}(,|\))", junction.Output[0]));
        Assert.True(File.Exists(Path.Combine(dir, "data", "junction.db")), "the demo stores in ./data/junction.db");

        // A first run shows something: simulated journeys arrive through the demo's own form and Stripe sources,
        // all at demo addresses, and the dashboard answers at / with its sign-in page.
        using var admin = new HttpClient { BaseAddress = baseAddress };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Junction.Config.DemoConfig.AdminToken);
        var raw = "";
        for (var i = 0; i < 150 && !(raw.Contains("\"demo-form\"", StringComparison.Ordinal) && raw.Contains("\"demo-stripe\"", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(200);
            raw = await admin.GetStringAsync("/v1/raw-events?limit=100");
        }
        Assert.Contains("\"demo-form\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"demo-stripe\"", raw, StringComparison.Ordinal);
        var person = "";
        for (var i = 0; i < 150 && !person.Contains("demo-1@demo.junction.invalid", StringComparison.Ordinal); i++)
        {
            using var found = await admin.GetAsync("/v1/people?email=demo-1@demo.junction.invalid");
            person = await found.Content.ReadAsStringAsync();
            await Task.Delay(200);
        }
        Assert.Contains("demo-1@demo.junction.invalid", person, StringComparison.Ordinal);
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = baseAddress };
        using var home = await noRedirect.GetAsync("/");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/signin", home.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_OnAValidFile_ExitsZeroWithOneLine()
    {
        var dir = TestStorage.NewTempDirectory();
        var file = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(file, """
            storage: "sqlite:./data/junction.db"
            admin:
              tokens: ["${CHECK_TOKEN}"]
            sources:
              stripe-main:
                provider: stripe
                secrets: ["${CHECK_STRIPE}", "whsec_old"]
                tolerance_seconds: 300
              shop:
                provider: shopify
                secrets: ["abc"]
            """);
        var (code, output) = await JunctionProcess.RunAsync(dir,
            new Dictionary<string, string?> { ["CHECK_TOKEN"] = "t0123456789abcdef", ["CHECK_STRIPE"] = "whsec_new", ["JUNCTION_STORAGE"] = null },
            "check-config", "--config", file);

        Assert.Equal(0, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("2 sources", line, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_new", line, StringComparison.Ordinal);
        Assert.DoesNotContain("t0123456789abcdef", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_OnABadFile_ExitsTwoListingEveryErrorWithItsKeyPath()
    {
        var dir = TestStorage.NewTempDirectory();
        var file = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(file, """
            storage: "mysql:whatever"
            sources:
              s1:
                provider: paypall
                secrets: ["x"]
              s2:
                provider: stripe
                secrets: ["${ACC_X}"]
                tolerance_seconds: -5
            """);
        var (code, output) = await JunctionProcess.RunAsync(dir,
            new Dictionary<string, string?> { ["ACC_X"] = null, ["JUNCTION_STORAGE"] = null },
            "check-config", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("sources.s2.secrets[0]: environment variable ACC_X is not set", output, StringComparison.Ordinal);
        Assert.Contains("storage: expected", output, StringComparison.Ordinal);
        Assert.Matches(@"sources\.s1\.provider: expected one of stripe, shopify, [a-z, -]+; got 'paypall'", output);
        Assert.Contains("sources.s2.tolerance_seconds: expected a whole number", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_OnAMissingFile_ExitsTwo()
    {
        var dir = TestStorage.NewTempDirectory();
        var (code, output) = await JunctionProcess.RunAsync(dir, null, "check-config", "--config", Path.Combine(dir, "absent.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("not found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithAnInvalidConfig_RefusesToStart_AndSaysWhy()
    {
        var dir = TestStorage.NewTempDirectory();
        var file = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(file, "sources:\n  a:\n    provider: stripe\n");
        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = null },
            "serve", "--config", file, "--urls", $"http://127.0.0.1:{JunctionProcess.FreePort()}");
        Assert.Equal(2, code);
        Assert.Contains("sources.a.secrets: required", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithAnExplicitConfigThatDoesNotExist_ExitsTwoNamingThePath_AndDoesNotStartTheDemo()
    {
        var dir = TestStorage.NewTempDirectory();
        var missing = Path.Combine(dir, "jucntion.yaml");
        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = null },
            "serve", "--config", missing, "--urls", $"http://127.0.0.1:{JunctionProcess.FreePort()}");

        Assert.Equal(2, code);
        Assert.Contains(missing, output, StringComparison.Ordinal);
        Assert.Contains("not found", output, StringComparison.Ordinal);
        Assert.DoesNotContain("demo", output, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(Path.Combine(dir, "data")), "nothing was stored");
    }

    [Theory]
    [InlineData("trace", "someone@example.com")]
    [InlineData("rebuild")]
    [InlineData("backfill", "--source", "x")]
    public async Task EveryVerbTakingConfig_WithAnExplicitConfigThatDoesNotExist_ExitsTwoNamingThePath(string verb, params string[] rest)
    {
        var dir = TestStorage.NewTempDirectory();
        var missing = Path.Combine(dir, "absent.yaml");
        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = null },
            [verb, "--config", missing, .. rest]);

        Assert.Equal(2, code);
        Assert.Contains(missing, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_Demo_WithJunctionStorageSet_RefusesToStart_AndSaysWhy()
    {
        var dir = TestStorage.NewTempDirectory();
        var storage = $"sqlite:{Path.Combine(dir, "real.db")}";
        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = storage },
            "serve", "--urls", $"http://127.0.0.1:{JunctionProcess.FreePort()}");

        Assert.Equal(2, code);
        Assert.Contains("JUNCTION_STORAGE", output, StringComparison.Ordinal);
        Assert.Contains("published secrets", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "real.db")), "the configured store was not opened");
    }

    [Fact]
    public async Task Serve_Demo_WithANonLoopbackUrl_RefusesToStart_AndSaysWhy()
    {
        var dir = TestStorage.NewTempDirectory();
        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = null },
            "serve", "--urls", $"http://0.0.0.0:{JunctionProcess.FreePort()}");

        Assert.Equal(2, code);
        Assert.Contains("loopback only", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir, "data")), "nothing was stored");
    }

    [Fact]
    public async Task Serve_Demo_WhenTheEnvironmentAddsANonLoopbackListener_Stops()
    {
        var dir = TestStorage.NewTempDirectory();
        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?>
            {
                ["JUNCTION_STORAGE"] = null,
                ["Kestrel__Endpoints__Wide__Url"] = $"http://0.0.0.0:{JunctionProcess.FreePort()}",
            },
            "serve", "--urls", $"http://127.0.0.1:{JunctionProcess.FreePort()}");

        Assert.Equal(2, code);
        Assert.Contains("loopback only", output, StringComparison.Ordinal);
    }
}
