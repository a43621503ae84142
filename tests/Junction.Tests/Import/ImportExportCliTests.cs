using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Tests.Support;

namespace Junction.Tests.Import;

/// <summary>
/// R7.4 from outside: the real executable imports a creator's subscriber exports (generic CSV, Kit,
/// Mailchimp, ActiveCampaign) through the raw log and normalization, reports refused rows by number,
/// imports nothing on a second run, and exports people, orders and the ledger as CSV and JSON lines.
/// </summary>
public abstract class ImportExportCliTests
{
    private const string Admin = "import-admin-token-0123456789";
    private const string Key = "import-api-key-0123456789abcdef";

    protected abstract Task<string> StorageAsync();

    private const string Yaml = """
        storage: "sqlite:./data/junction.db"
        admin:
          tokens: ["import-admin-token-0123456789"]
        api_keys: ["import-api-key-0123456789abcdef"]
        sources:
          app:
            provider: api
        tags: ["customer", "vip", "lead", "welcomed"]
        ownership:
          money: [payments, app]
          subscription_preferences: [email, forms, app]
        lifecycle:
          - { name: welcome, after: optin, delay: 1d, add_tag: welcomed }
        """;

    private const string Csv = """
        email,name,consent_email,consented_at,tags,created_at,favourite
        Ada@Example.com,Ada Lovelace,true,2024-01-02T03:04:05Z,customer;vip,2023-12-01T00:00:00Z,tea
        bob@example.com,Bob,false,2024-02-02T00:00:00Z,lead,,coffee
        not-an-email,X,true,,,,
        carol@example.com,Carol,carol@example.com,,,,
        dan@example.com,Dan,true,yesterday,,,
        erin@example.com,Erin,,,unknowntag,,
        frank@example.com,,,,,,
        """;

    [Fact]
    public async Task ImportCsv_ReportsRefusedRows_ImportsNothingTheSecondTime_AndExportShowsPeopleWithTags_WithoutReWelcomingThem()
    {
        var dir = TestStorage.NewTempDirectory();
        var env = new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = await StorageAsync() };
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml);
        await File.WriteAllTextAsync(Path.Combine(dir, "subs.csv"), Csv);

        using (var junction = Start(dir, env, out var client))
        {
            await junction.WaitHealthyAsync(client.BaseAddress!);
            // A live opt-in a month ago: the welcome rule fires for it (so the rule works), and an order to export.
            await Post(client, """{"type":"optin","occurred_at":"2026-11-01T09:00:00Z","subject":{"email":"hal@example.com"},"consent":[{"channel":"email","granted":true}]}""");
            await Post(client, """{"type":"order.paid","occurred_at":"2026-11-20T11:00:00Z","subject":{"email":"gus@example.com"},"order":{"order_id":"ord_gus","amount":4900,"currency":"usd"}}""");
            await WaitPerson(client, "hal@example.com", p => Tags(p).Contains("welcomed"));

            // Imported while serve runs: serve holds the normalize and project roles and takes the rows from the log.
            var (code, stdout, stderr) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", "csv", "subs.csv", "--report", "refused.csv");
            Assert.True(code == 0, stderr);
            Assert.Equal(["imported 3, unchanged 0, refused 4"], stdout);
            Assert.Contains("row 4: email: not an email address", stderr, StringComparison.Ordinal);
            Assert.Contains("row 5: consent_email: expected true or false; got 'c***@e***.com'", stderr, StringComparison.Ordinal);
            Assert.Contains("row 6: consented_at: expected an ISO-8601 time", stderr, StringComparison.Ordinal);
            Assert.Contains("row 7: tags: 'unknowntag' not in the tag vocabulary", stderr, StringComparison.Ordinal);
            Assert.Contains("columns not used: 'favourite'", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("not-an-email", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("carol@", stderr, StringComparison.Ordinal);
            var report = await File.ReadAllLinesAsync(Path.Combine(dir, "refused.csv"));
            Assert.Equal("row,reason", report[0]);
            Assert.Equal(["4", "5", "6", "7"], report.Skip(1).Select(l => l.Split(',')[0]));

            var ada = await WaitPerson(client, "ada@example.com", p => Tags(p).Count == 2);
            Assert.Equal(["customer", "vip"], Tags(ada));
        }

        var (againCode, again, againErr) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", "csv", "subs.csv");
        Assert.True(againCode == 0, againErr);
        Assert.Equal(["imported 0, unchanged 3, refused 4"], again);

        // A custom field changes what the row says: those rows are imported again, the others stay unchanged.
        var (mappedCode, mapped, mappedErr) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", "csv", "subs.csv", "--map", "favourite=field:drink");
        Assert.True(mappedCode == 0, mappedErr);
        Assert.Equal(["imported 2, unchanged 1, refused 4"], mapped);
        Assert.DoesNotContain("columns not used", mappedErr, StringComparison.Ordinal);

        var (peopleCode, people, peopleErr) = await JunctionProcess.RunSplitAsync(dir, env, "export", "people");
        Assert.True(peopleCode == 0, peopleErr);
        var header = people[0].Split(',');
        Assert.Equal(["person_id", "email"], header[..2]);
        Assert.Contains("tags", header);
        var rows = people.Skip(1).Select(l => l.Split(',')).ToDictionary(r => r[1], r => r);
        Assert.Equal(["ada@example.com", "bob@example.com", "frank@example.com", "gus@example.com", "hal@example.com"], rows.Keys.Order(StringComparer.Ordinal));
        var tags = Array.IndexOf(header, "tags");
        var consent = Array.IndexOf(header, "consent_email");
        // Imported opt-ins from 2024 are history: the welcome rule, due long ago, did not fire for them.
        Assert.Equal("customer;vip", rows["ada@example.com"][tags]);
        Assert.Equal("true", rows["ada@example.com"][consent]);
        Assert.Equal("lead", rows["bob@example.com"][tags]);
        Assert.Equal("false", rows["bob@example.com"][consent]);
        Assert.Equal("welcomed", rows["hal@example.com"][tags]);
        Assert.Contains("export people: wrote 5 rows", peopleErr, StringComparison.Ordinal);

        var (jsonCode, jsonl, jsonErr) = await JunctionProcess.RunSplitAsync(dir, env, "export", "people", "--format", "jsonl");
        Assert.True(jsonCode == 0, jsonErr);
        var adaLine = jsonl.Select(l => JsonDocument.Parse(l).RootElement).Single(p => p.GetProperty("email").GetString() == "ada@example.com");
        Assert.Equal(["customer", "vip"], adaLine.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.StartsWith("p_", adaLine.GetProperty("person_id").GetString(), StringComparison.Ordinal);

        var (ordersCode, orders, ordersErr) = await JunctionProcess.RunSplitAsync(dir, env, "export", "orders", "--out", "orders.csv");
        Assert.True(ordersCode == 0, ordersErr);
        Assert.Empty(orders);
        var orderLines = await File.ReadAllLinesAsync(Path.Combine(dir, "orders.csv"));
        Assert.Equal("source,order_id,person_id,status,currency,amount,refunded,paid_at,refunded_at,test", orderLines[0]);
        Assert.Single(orderLines.Skip(1), l => l.StartsWith("app,ord_gus,p_", StringComparison.Ordinal) && l.Contains(",USD,4900,", StringComparison.Ordinal));

        var (ledgerCode, ledger, ledgerErr) = await JunctionProcess.RunSplitAsync(dir, env, "export", "ledger", "--format", "jsonl");
        Assert.True(ledgerCode == 0, ledgerErr);
        var events = ledger.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(events.Select(e => e.GetProperty("seq").GetInt64()).Order(), events.Select(e => e.GetProperty("seq").GetInt64()));
        var imported = events.Select(e => e.GetProperty("event")).Where(e => e.GetProperty("source").GetString() == "import").ToList();
        Assert.All(imported, e => Assert.True(e.GetProperty("historical").GetBoolean()));
        Assert.Contains(imported, e => e.GetProperty("type").GetString() == "optin" && e.GetProperty("subject").GetProperty("email").GetString() == "ada@example.com");
        Assert.DoesNotContain(events.Select(e => e.GetProperty("event")).Where(e => e.GetProperty("source").GetString() == "app"), e => e.TryGetProperty("historical", out _));

        // --since filters: nobody changed after 2099.
        var (sinceCode, since, sinceErr) = await JunctionProcess.RunSplitAsync(dir, env, "export", "people", "--since", "2099-01-01T00:00:00Z");
        Assert.True(sinceCode == 0, sinceErr);
        Assert.Equal([people[0]], since);
    }

    [Theory]
    [InlineData("kit", """
        first_name,email_address,state,created_at,tags,favourite_colour
        Ada,ada@example.com,active,2024-01-02T03:04:05Z,"Customer,vip",blue
        Bob,bob@example.com,cancelled,2024-02-02T00:00:00Z,lead,
        Cy,cy@example.com,unconfirmed,2024-03-03T00:00:00Z,,
        Dee,dee@example.com,gone,2024-03-03T00:00:00Z,,
        """)]
    [InlineData("mailchimp", """"
        Email Address,First Name,Last Name,Phone Number,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS,UNSUB_TIME
        ada@example.com,Ada,Lovelace,,2,2024-01-02 03:04:05,,2024-01-02 03:05:00,,,,,,,,,2024-05-05 00:00:00,123,abc,,"""Customer"",""vip""",
        bob@example.com,Bob,,,1,2024-02-02 00:00:00,,,,,,,,,,,2024-05-05 00:00:00,124,abd,,"""lead""",2024-06-01 00:00:00
        cy@example.com,Cy,,,1,2024-03-03 00:00:00,,,,,,,,,,,2024-05-05 00:00:00,125,abe,,,
        dee@example.com,Dee,,,1,03/03/2024 noon,,,,,,,,,,,2024-05-05 00:00:00,126,abf,,,
        """")]
    [InlineData("activecampaign", """
        Contact ID,Email,First Name,Last Name,Phone,Tags,Date Created,Status
        1,ada@example.com,Ada,Lovelace,+12125550100,"Customer, vip",2024-01-02 03:04:05,Active
        2,bob@example.com,Bob,,,lead,2024-02-02 00:00:00,Unsubscribed
        3,cy@example.com,Cy,,,,2024-03-03 00:00:00,Unconfirmed
        4,dee@example.com,Dee,,,,2024-03-03 00:00:00,Sleeping
        """)]
    public async Task ImportAToolsExport_MapsItsColumns_StatusAndTags_ThroughTheDestinationsTagMap(string from, string export)
    {
        var dir = TestStorage.NewTempDirectory();
        var env = new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = await StorageAsync() };
        // The tool's "Customer" is the vocabulary's customer through the destination's tags: map, read backwards.
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml + $$"""

            destinations:
              tool:
                type: {{from}}
                base_url: "http://127.0.0.1:9"
                credentials: { api_key: "{{from}}-0123456789abcdef0123456789ab-us1" }
                {{(from == "mailchimp" ? "list_id: list1" : "")}}
                tags: { customer: "Customer" }
            """);
        await File.WriteAllTextAsync(Path.Combine(dir, "export.csv"), export);

        var (code, stdout, stderr) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", from, "export.csv");
        Assert.True(code == 0, stderr);
        Assert.Equal(["imported 3, unchanged 0, refused 1"], stdout);
        Assert.Contains("row 5: ", stderr, StringComparison.Ordinal);

        var (again, twice, _) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", from, "export.csv");
        Assert.Equal(0, again);
        Assert.Equal(["imported 0, unchanged 3, refused 1"], twice);

        var (exportCode, people, exportErr) = await JunctionProcess.RunSplitAsync(dir, env, "export", "people", "--format", "jsonl");
        Assert.True(exportCode == 0, exportErr);
        var byEmail = people.Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(p => p.GetProperty("email").GetString()!);
        Assert.Equal(["customer", "vip"], byEmail["ada@example.com"].GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.True(byEmail["ada@example.com"].GetProperty("consent_email").GetBoolean());
        Assert.Equal("2024-01-02T03:04:05Z", byEmail["ada@example.com"].GetProperty("first_seen_at").GetString());
        Assert.Equal(["lead"], byEmail["bob@example.com"].GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.False(byEmail["bob@example.com"].GetProperty("consent_email").GetBoolean());
        Assert.Contains("cy@example.com", byEmail.Keys);
        Assert.DoesNotContain("dee@example.com", byEmail.Keys);
    }

    [Fact]
    public async Task Import_WithoutAnEmailColumn_OrAnUnreadableFile_ExitsTwo_AndStoresNothing()
    {
        var dir = TestStorage.NewTempDirectory();
        var env = new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = await StorageAsync() };
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), Yaml);
        await File.WriteAllTextAsync(Path.Combine(dir, "noemail.csv"), "mail,name\nada@example.com,Ada\n");

        var (code, stdout, stderr) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", "csv", "noemail.csv");
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains("no email column", stderr, StringComparison.Ordinal);

        var (mappedCode, mapped, mappedErr) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", "csv", "noemail.csv", "--map", "mail=email");
        Assert.True(mappedCode == 0, mappedErr);
        Assert.Equal(["imported 1, unchanged 0, refused 0"], mapped);

        var (missingCode, _, missingErr) = await JunctionProcess.RunSplitAsync(dir, env, "import", "--from", "csv", "absent.csv");
        Assert.Equal(2, missingCode);
        Assert.Contains("cannot read absent.csv", missingErr, StringComparison.Ordinal);
    }

    private static List<string?> Tags(JsonElement person) => [.. person.GetProperty("tags").EnumerateArray().Select(t => t.GetString())];

    private static JunctionProcess Start(string dir, Dictionary<string, string?> env, out HttpClient client)
    {
        var port = JunctionProcess.FreePort();
        client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        return JunctionProcess.Start(dir, env, "serve", "--urls", $"http://127.0.0.1:{port}");
    }

    private static async Task Post(HttpClient client, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> WaitPerson(HttpClient client, string email, Func<JsonElement, bool> until)
    {
        var last = "";
        for (var i = 0; i < 300; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/people?email={email}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
            using var response = await client.SendAsync(request);
            last = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && until(JsonDocument.Parse(last).RootElement)) return JsonDocument.Parse(last).RootElement.Clone();
            await Task.Delay(100);
        }
        Assert.Fail($"{email} never reached the expected state: {last}");
        return default;
    }
}

public sealed class SqliteImportExportCliTests : ImportExportCliTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresImportExportCliTests : ImportExportCliTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
