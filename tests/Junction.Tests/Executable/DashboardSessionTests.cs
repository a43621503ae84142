using System.Net;
using System.Text.RegularExpressions;
using Junction.Tests.Support;

namespace Junction.Tests.Executable;

/// <summary>
/// Two real `junction serve` processes on one PostgreSQL, each with its own home directory (as two
/// machines or two fresh containers behind a load balancer): a dashboard session signed in on one
/// is accepted by the other, because the cookie keys live in the store, not in each machine's home.
/// </summary>
public sealed partial class DashboardSessionTests
{
    private const string Token = "dashboard-session-admin-token-0123456789";

    [Fact]
    public async Task SessionFromOneNode_IsAcceptedByAnother_WithItsOwnHome()
    {
        var storage = await TestStorage.NewPostgresAsync();
        var dir = TestStorage.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), $$"""
            storage: "{{storage}}"
            admin: { tokens: [{ token: "{{Token}}", role: admin, name: ops-anna }] }
            sources:
              stripe-main: { provider: stripe, secrets: ["whsec_dashboard_session_secret"] }
            """);
        var portA = JunctionProcess.FreePort();
        var portB = JunctionProcess.FreePort();
        using var a = JunctionProcess.Start(dir, Home(), "serve", "--urls", $"http://127.0.0.1:{portA}");
        using var b = JunctionProcess.Start(dir, Home(), "serve", "--urls", $"http://127.0.0.1:{portB}");
        var nodeA = new Uri($"http://127.0.0.1:{portA}");
        var nodeB = new Uri($"http://127.0.0.1:{portB}");
        await a.WaitHealthyAsync(nodeA);
        await b.WaitHealthyAsync(nodeB);

        // Sign in on A through the form, antiforgery included.
        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var browser = new HttpClient(handler);
        var form = await browser.GetStringAsync(new Uri(nodeA, "/signin"));
        var antiforgery = AntiforgeryField().Match(form);
        Assert.True(antiforgery.Success, "the sign-in page carries an antiforgery field");
        using var signIn = await browser.PostAsync(new Uri(nodeA, "/signin"), new FormUrlEncodedContent(
        [
            new("token", Token), new(antiforgery.Groups["name"].Value, WebUtility.HtmlDecode(antiforgery.Groups["value"].Value)),
        ]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        var session = cookies.GetCookies(nodeA)["junction-session"];
        Assert.NotNull(session);

        // The same cookie on B: B has never seen this session, nor A's home directory.
        using var onB = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }, disposeHandler: true);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(nodeB, "/operations"));
        request.Headers.Add("Cookie", $"junction-session={session.Value}");
        using var page = await onB.SendAsync(request);
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"node B answered {(int)page.StatusCode} {page.Headers.Location} to node A's session");
        Assert.Contains("ops-anna", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    // A home of its own per process: the default key ring would live in $HOME/.aspnet/DataProtection-Keys.
    private static Dictionary<string, string?> Home() => new(StringComparer.Ordinal) { ["HOME"] = TestStorage.NewTempDirectory() };

    [GeneratedRegex("""name="(?<name>__RequestVerificationToken)"[^>]*value="(?<value>[^"]+)"|value="(?<value>[^"]+)"[^>]*name="(?<name>__RequestVerificationToken)" """, RegexOptions.CultureInvariant)]
    private static partial Regex AntiforgeryField();
}
