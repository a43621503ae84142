using System.Net.Http.Json;
using System.Text.Json;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Capture;

/// <summary>
/// The snippet in a real browser (Debian's chromium driven by Playwright; no browser download):
/// a landing page served from its own origin, visited with UTMs, left for a page without a query,
/// visited again with other UTMs, then the form posted to Junction across origins. The stored
/// optin must carry the first touch, the last touch and the ticked consent, and the checkout link
/// the purchase token the optin names. Skipped only when chromium is missing outside CI.
/// Runs alone, after the parallel tests: on two cores, chromium beside the whole suite once
/// missed its 45 s page-load budget (a loaded machine, not a fault of the page).
/// </summary>
[Collection(nameof(BrowserAlone))]
public sealed class SnippetBrowserTests
{
    private static readonly string[] ChromiumPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

    internal static string ChromiumPath()
    {
        var configured = Environment.GetEnvironmentVariable("JUNCTION_CHROMIUM");
        var found = new[] { configured }.Concat(ChromiumPaths).FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));
        if (found is not null) return found;
        if (Environment.GetEnvironmentVariable("CI") is "true" or "1")
        {
            throw new InvalidOperationException("chromium is not installed under CI: run the tests through scripts/test.sh, which installs it");
        }
        Assert.Skip("chromium is not installed (apt-get install chromium, or run scripts/test.sh); set JUNCTION_CHROMIUM to use another path");
        return "";
    }

    [Fact]
    public async Task LandingPage_KeepsFirstAndLastTouch_AcrossPages_AndTheFormPostCarriesThemAndTheConsent()
    {
        var chromium = ChromiumPath();
        Uri? junction = null;
        await using var pages = await FakeApi.StartAsync(app =>
        {
            app.MapGet("/landing", () => Html(LandingPage(junction!)));
            app.MapGet("/second", () => Html(SecondPage(junction!)));
            app.MapGet("/thanks", () => Html("<!doctype html><title>Thanks</title><h1 id=thanks>Thank you</h1>"));
        });
        var origin = pages.BaseUrl.GetLeftPart(UriPartial.Authority);
        await using var server = await JunctionServer.StartAsync(ServerConfig(redirect: new Uri(pages.BaseUrl, "/thanks").ToString(), allowedOrigins: origin));
        junction = server.Client.BaseAddress!;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright, chromium);
        await using var context = await browser.NewContextAsync();
        // Waits are on explicit conditions (commit, then an element or a script state), never on the
        // load lifecycle event, which a busy machine's chromium can report late; the bound is generous.
        context.SetDefaultTimeout(45_000);
        context.SetDefaultNavigationTimeout(45_000);
        var page = await context.NewPageAsync();

        // 1. First visit, from an Instagram campaign.
        await page.GotoAsync(new Uri(pages.BaseUrl, "/landing?utm_source=ig&utm_campaign=launch").ToString(), Committed);
        await page.WaitForFunctionAsync("() => window.junction && document.cookie.includes('junction=')");

        // 2. On to a page without a query string: the cookie must stay as it is.
        await page.ClickAsync("#next");
        await page.WaitForURLAsync(new Uri(pages.BaseUrl, "/second").ToString(), new() { WaitUntil = WaitUntilState.Commit });
        await page.Locator("#back").WaitForAsync();
        await page.WaitForFunctionAsync("() => window.junction && window.junction.values().first_utm_source === 'ig'");

        // 3. Back later from the newsletter.
        await page.GotoAsync(new Uri(pages.BaseUrl, "/landing?utm_source=newsletter").ToString(), Committed);
        await page.WaitForFunctionAsync("() => window.junction && window.junction.values().utm_source === 'newsletter'");

        var checkout = new Uri((await page.GetAttributeAsync("#buy", "href"))!);
        var stripe = new Uri((await page.GetAttributeAsync("#buy-stripe", "href"))!);
        var token = Query(checkout, "purchase_token");
        Assert.StartsWith("jt_", token, StringComparison.Ordinal);
        Assert.Equal(token, Query(stripe, "client_reference_id"));
        Assert.Equal("x@example.com", Query(stripe, "prefilled_email"));

        // 4. The form, consent ticked, posted to Junction; the browser follows the 303 to the thank-you page.
        await page.FillAsync("input[name=email]", "Visitor@Example.com");
        await page.CheckAsync("input[name=consent_email]");
        var formResponse = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync("button[type=submit]"),
            r => r.Url.StartsWith(junction.ToString().TrimEnd('/') + "/v1/forms/landing", StringComparison.Ordinal));
        Assert.Equal(303, formResponse.Status);
        await page.WaitForURLAsync(new Uri(pages.BaseUrl, "/thanks").ToString(), new() { WaitUntil = WaitUntilState.Commit });
        await page.Locator("#thanks").WaitForAsync();

        var optin = await WaitForOneEventAsync(server, Landing);
        Assert.Equal("optin", optin.Str("type"));
        Assert.Equal("visitor@example.com", optin.Str("subject.email"));
        Assert.Equal("ig", optin.Str("first_touch.utm_source"));
        Assert.Equal("launch", optin.Str("first_touch.utm_campaign"));
        Assert.Equal("newsletter", optin.Str("attribution.utm_source"));
        Assert.Null(optin.Str("attribution.utm_campaign"));
        Assert.Contains("utm_source=newsletter", optin.Str("attribution.landing_page"), StringComparison.Ordinal);
        Assert.True(optin.Consent("email").GetProperty("granted").GetBoolean());
        Assert.Equal(token, optin.Str("subject.purchase_token"));
        Assert.StartsWith("ja_", optin.Str("subject.anonymous_id"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenTheScriptTagRequiresConsent_NoCookieIsKeptUntilConsent_ThenTheTouchIsKept()
    {
        var chromium = ChromiumPath();
        Uri? junction = null;
        await using var pages = await FakeApi.StartAsync(app =>
        {
            app.MapGet("/gated", () => Html($"""
                <!doctype html><html><head><meta charset="utf-8"><title>Gated</title>
                <script src="{new Uri(junction!, "/v1/snippet.js")}" data-require-consent defer></script></head>
                <body><a id="buy" data-junction-checkout href="https://checkout.example/buy">Buy</a></body></html>
                """));
        });
        await using var server = await JunctionServer.StartAsync(ServerConfig());
        junction = server.Client.BaseAddress!;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright, chromium);
        await using var context = await browser.NewContextAsync();
        context.SetDefaultTimeout(45_000);
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(pages.BaseUrl, "/gated?utm_source=ig").ToString(), Committed);
        await page.WaitForFunctionAsync("() => window.junction && window.junction.values().utm_source === 'ig'");
        Assert.DoesNotContain("junction=", await page.EvaluateAsync<string>("() => document.cookie"), StringComparison.Ordinal);
        Assert.False(await page.EvaluateAsync<bool>("() => 'anonymous_id' in window.junction.values()"));
        // The checkout link still gets a token (it travels in the URL, nothing is stored).
        Assert.Contains("purchase_token=jt_", await page.GetAttributeAsync("#buy", "href"), StringComparison.Ordinal);

        await page.EvaluateAsync("() => window.junction.consent()");
        await page.GotoAsync(new Uri(pages.BaseUrl, "/gated").ToString(), Committed);
        await page.WaitForFunctionAsync("() => window.junction && window.junction.values().first_utm_source === 'ig'");
        Assert.Contains("junction=", await page.EvaluateAsync<string>("() => document.cookie"), StringComparison.Ordinal);
        Assert.True(await page.EvaluateAsync<bool>("() => window.junction.values().anonymous_id.startsWith('ja_')"));
    }

    internal static Task<IBrowser> LaunchAsync(IPlaywright playwright, string chromium) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });

    private static readonly PageGotoOptions Committed = new() { WaitUntil = WaitUntilState.Commit };

    private static async Task<JsonElement> WaitForOneEventAsync(JunctionServer server, string source)
    {
        // The form post was stored before its 303; normalization follows at once, so this settles quickly.
        for (var i = 0; i < 200; i++)
        {
            var page = await server.Admin.GetFromJsonAsync<JsonElement>($"/v1/events?source={source}");
            var items = page.GetProperty("items");
            if (items.GetArrayLength() > 0) return Assert.Single(items.EnumerateArray());
            await Task.Delay(50);
        }
        throw new TimeoutException($"no canonical event for source {source}");
    }

    private static string Query(Uri uri, string name) =>
        System.Web.HttpUtility.ParseQueryString(uri.Query)[name] ?? throw new InvalidOperationException($"{uri} has no {name}");

    private static IResult Html(string html) => Results.Content(html, "text/html; charset=utf-8");

    private static string Snippet(Uri junction) => $"""<script src="{new Uri(junction, "/v1/snippet.js")}" defer></script>""";

    private static string LandingPage(Uri junction) => $"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Launch</title>{Snippet(junction)}</head>
        <body>
          <a id="next" href="/second">Read more</a>
          <a id="buy" data-junction-checkout href="https://checkout.example/buy/course-pro">Buy</a>
          <a id="buy-stripe" data-junction-checkout="client_reference_id" href="https://buy.stripe.com/test_123?prefilled_email=x%40example.com">Buy with Stripe</a>
          <form data-junction method="post" action="{new Uri(junction, "/v1/forms/landing")}">
            <input name="email" type="email" required>
            <label><input type="checkbox" name="consent_email"> Email me the course news</label>
            <input name="website" style="display:none" tabindex="-1" autocomplete="off">
            <button type="submit">Join</button>
          </form>
        </body></html>
        """;

    private static string SecondPage(Uri junction) => $"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>More</title>{Snippet(junction)}</head>
        <body><a id="back" href="/landing">Back</a></body></html>
        """;
}

[CollectionDefinition(nameof(BrowserAlone), DisableParallelization = true)]
public sealed class BrowserAlone;
