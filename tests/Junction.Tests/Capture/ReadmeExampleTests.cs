using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Config;
using Junction.Tests.Support;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Capture;

/// <summary>
/// The README's "Sending your own events" example, read from README.md itself and run as written:
/// it used to be logged and then silently ignored, because payment providers own money by default.
/// </summary>
public sealed partial class ReadmeExampleTests
{
    private const string Key = "readme-example-api-key-0123";

    [Fact]
    public async Task ReadmeOwnEventsExample_OrderPaidFromTheApiSource_RecordsAPaidOrder()
    {
        var section = Section(File.ReadAllText(Path.Combine(RepoRoot(), "README.md")), "## Sending your own events");
        var yaml = YamlBlock().Match(section).Groups[1].Value;
        var body = CurlBody().Match(section).Groups[1].Value;
        Assert.False(yaml.Length == 0 || body.Length == 0, "the README section lost its yaml block or its curl -d body");

        var config = ConfigLoader.Parse(
            yaml + $"\nstorage: \"{TestStorage.NewSqlite()}\"\nadmin: {{ tokens: [\"{JunctionServer.AdminToken}\"] }}\n",
            "README.md", Env);
        await using var server = await JunctionServer.StartAsync(config);

        using var response = await PostJsonAsync(server.Client, "/v1/events", body, bearer: Key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var email = JsonDocument.Parse(body).RootElement.GetProperty("subject").GetProperty("email").GetString()!;
        var orderId = JsonDocument.Parse(body).RootElement.GetProperty("order").GetProperty("order_id").GetString()!;
        var person = await Project.ProjectKit.PersonAsync(server, $"/v1/people?email={email}",
            p => p.TryGetProperty("orders", out var orders) && orders.GetArrayLength() > 0);
        var order = Assert.Single(person.GetProperty("orders").EnumerateArray());
        Assert.Equal((orderId, "paid"), (order.GetProperty("order_id").GetString(), order.GetProperty("status").GetString()));
    }

    [Fact]
    public void ProductMatchedOnASourceThatMayWriteNeitherMoneyNorAccess_IsAConfigErrorNamingTheKeyPath()
    {
        const string Yaml = """
            api_keys: ["${JUNCTION_API_KEY}"]
            sources:
              app: { provider: api }
              stripe-main: { provider: stripe, secrets: ["whsec_live_3f9a0c1e7b2d4a68"] }
            tags: ["paid:course-pro"]
            products:
              course-pro:
                match: [{ source: stripe-main, price: price_1 }, { source: app, sku: course-pro }]
                tags_while_active: ["paid:course-pro"]
            """;
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Yaml, "j.yaml", Env)).Errors);
        Assert.Equal("products.course-pro.match[1].source", error.Path);
        Assert.Contains("may write neither money", error.Message, StringComparison.Ordinal);

        // Saying so in ownership: makes the same match valid.
        var config = ConfigLoader.Parse(Yaml + "\nownership: { money: [payments, app] }\n", "j.yaml", Env);
        Assert.Equal(2, config.Policy.Products[0].Match.Count);
    }

    private static string? Env(string name) => name == "JUNCTION_API_KEY" ? Key : null;

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{heading}' section");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..end];
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Junction.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException("Junction.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("```yaml\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    [GeneratedRegex(" -d '(.*?)'", RegexOptions.Singleline)]
    private static partial Regex CurlBody();
}
