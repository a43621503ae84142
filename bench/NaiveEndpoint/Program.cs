// The naive durable endpoint: what a plain ASP.NET Core app does when it stores each webhook body
// before answering, and nothing else. For POST /v1/hooks/{source} it reads the body, hands it to one
// writer, and answers 200 once the writer's transaction holding it has committed. The writer takes
// whatever is queued (up to 1 000 bodies), appends them in one transaction with one prepared
// statement, and commits: group commit, on SQLite in WAL mode with synchronous=FULL (as Junction).
// No signature check, no deduplication, no normalization. bench/intake.sh runs it beside the null
// endpoint and Junction, so each run shows what durability alone costs on this machine.
//
//   dotnet NaiveEndpoint.dll --urls http://127.0.0.1:PORT --db FILE

using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

var urls = "http://127.0.0.1:5098";
var db = "naive.db";
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--urls") urls = args[i + 1];
    if (args[i] == "--db") db = args[i + 1];
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.WebHost.UseUrls(urls);
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

var queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
var writer = Task.Run(() => WriteLoopAsync(db, queue.Reader));

var app = builder.Build();
var answer = """{"id":"00000000-0000-0000-0000-000000000000","duplicate":false,"trace_id":"00000000000000000000000000000000"}"""u8.ToArray();

app.MapGet("/healthz", () => Results.Text("""{"status":"up"}""", "application/json"));
app.MapPost("/v1/hooks/{source}", async (HttpContext context) =>
{
    var body = await ReadAllAsync(context.Request.BodyReader, context.RequestAborted);
    var pending = new Pending(body, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    await queue.Writer.WriteAsync(pending, context.RequestAborted);
    await pending.Committed.Task;
    context.Response.StatusCode = StatusCodes.Status200OK;
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = answer.Length;
    await context.Response.Body.WriteAsync(answer, context.RequestAborted);
});

await app.RunAsync();
queue.Writer.Complete();
await writer;

static async Task<byte[]> ReadAllAsync(PipeReader reader, CancellationToken cancellationToken)
{
    while (true)
    {
        var result = await reader.ReadAsync(cancellationToken);
        if (result.IsCompleted || result.IsCanceled)
        {
            var bytes = result.Buffer.ToArray();
            reader.AdvanceTo(result.Buffer.End);
            return bytes;
        }
        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
    }
}

static async Task WriteLoopAsync(string file, ChannelReader<Pending> reader)
{
    await using var connection = new SqliteConnection($"Data Source={file};Pooling=false");
    await connection.OpenAsync();
    await using (var setup = connection.CreateCommand())
    {
        setup.CommandText = """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS bodies (seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, body BLOB NOT NULL);
            """;
        await setup.ExecuteNonQueryAsync();
    }
    var batch = new List<Pending>(1000);
    while (await reader.WaitToReadAsync())
    {
        while (batch.Count < 1000 && reader.TryRead(out var next)) batch.Add(next);
        try
        {
            await using var transaction = connection.BeginTransaction();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO bodies (received_at, body) VALUES ($at, $body)";
            var at = insert.Parameters.Add("$at", SqliteType.Integer);
            var body = insert.Parameters.Add("$body", SqliteType.Blob);
            insert.Prepare();
            foreach (var pending in batch)
            {
                at.Value = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
                body.Value = pending.Body;
                await insert.ExecuteNonQueryAsync();
            }
            await transaction.CommitAsync();
            foreach (var pending in batch) pending.Committed.TrySetResult();
        }
        catch (Exception e)
        {
            foreach (var pending in batch) pending.Committed.TrySetException(e);
        }
        batch.Clear();
    }
}

sealed record Pending(byte[] Body, TaskCompletionSource Committed);
