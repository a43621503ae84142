// The null endpoint: the cost of Kestrel receiving a webhook, and nothing else. For
// POST /v1/hooks/{source} it reads the whole body and answers 200 with a JSON body shaped like
// Junction's, storing nothing. bench/intake.sh compares Junction against it under the same load.
//
//   dotnet NullEndpoint.dll --urls http://127.0.0.1:PORT

using System.IO.Pipelines;

var urls = "http://127.0.0.1:5099";
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--urls") urls = args[i + 1];
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.WebHost.UseUrls(urls);
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

var app = builder.Build();
var answer = """{"id":"00000000-0000-0000-0000-000000000000","duplicate":false,"trace_id":"00000000000000000000000000000000"}"""u8.ToArray();

app.MapGet("/healthz", () => Results.Text("""{"status":"up"}""", "application/json"));
app.MapPost("/v1/hooks/{source}", async (HttpContext context) =>
{
    await DrainAsync(context.Request.BodyReader, context.RequestAborted);
    context.Response.StatusCode = StatusCodes.Status200OK;
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = answer.Length;
    await context.Response.Body.WriteAsync(answer, context.RequestAborted);
});

await app.RunAsync();

// Reads the whole request body and drops it; returns its length.
static async Task<long> DrainAsync(PipeReader reader, CancellationToken cancellationToken)
{
    long total = 0;
    while (true)
    {
        var result = await reader.ReadAsync(cancellationToken);
        total += result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted || result.IsCanceled) return total;
    }
}
