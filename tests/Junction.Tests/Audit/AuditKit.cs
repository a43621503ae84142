using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Junction.Tests.Audit;

/// <summary>Starts an audit through the API and reads its finished report.</summary>
internal static class AuditKit
{
    /// <summary>POST /v1/audits, then polls GET /v1/audits/{id} until it is no longer running; fails on read errors.</summary>
    public static async Task<JsonElement> RunAsync(HttpClient admin, string since = "1d")
    {
        using var start = await admin.PostAsJsonAsync("/v1/audits", new { since });
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var report = await admin.GetFromJsonAsync<JsonElement>($"/v1/audits/{id}");
            if (report.GetProperty("status").GetString() != "running")
            {
                Assert.Equal("completed", report.GetProperty("status").GetString());
                Assert.Equal(0, report.GetProperty("read_errors").GetArrayLength());
                return report;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"audit {id} did not finish");
        return default;
    }

    public static List<JsonElement> Findings(JsonElement report, string point) =>
        [.. report.GetProperty("points").EnumerateArray().Single(p => p.GetProperty("name").GetString() == point).GetProperty("findings").EnumerateArray()];
}
