// The revenue leak benchmark (bench/leaks.sh; a benchmark, not a test). See bench/README.md ("leaks.sh").
//
//   dotnet Leaks.dll --junction bench/out/junction/Junction.dll --work DIR [--people 2000] [--seed 12]
//                    [--scale "2000 20000"] [--storage sqlite|postgres:CONN]
//
// 1. Starts fakes of Stripe (API + webhook sender), Kit and Teachable and the real `junction serve`.
// 2. Drives the journeys (opt-in → purchase → 10% of buyers refund) with faults injected at known
//    rates, waits until the pipeline has settled, tampers with a few people by hand, counts leaks.
// 3. Runs one audit with heal, waits for its heals to settle, counts leaks again, and joins the
//    audit's findings with the ground truth: detected, attributed to the right point, false positives.
// 4. Read cost at scale: for each size in --scale, a fresh stack whose tools hold that many people
//    (seeded straight into the fakes) and one audit with heal off: the calls it made.

using System.Diagnostics;
using System.Globalization;
using Junction.Bench.Leaks;

var options = new Dictionary<string, string>(StringComparer.Ordinal)
{
    ["--people"] = "2000", ["--seed"] = "12", ["--scale"] = "2000 20000", ["--storage"] = "sqlite", ["--concurrency"] = "8",
};
for (var i = 0; i + 1 < args.Length; i += 2) options[args[i]] = args[i + 1];
if (!options.TryGetValue("--junction", out var junction) || !options.TryGetValue("--work", out var work))
{
    Console.Error.WriteLine("usage: Leaks --junction Junction.dll --work DIR [--people N] [--seed S] [--scale \"N1 N2\"] [--storage sqlite|postgres:CONN]");
    return 2;
}
Directory.CreateDirectory(work);
int Int(string key) => int.Parse(options[key], CultureInfo.InvariantCulture);

string Storage(string name) => options["--storage"] == "sqlite"
    ? $"sqlite:{Path.Combine(work, name + ".db")}"
    : options["--storage"];

var clock = Stopwatch.StartNew();
void Log(string line) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] {line}");

try
{
    var run = new LeakRun(Int("--people"), Int("--seed"), Int("--concurrency"), Log);
    await using (var stack = await Stack.StartAsync(junction, Storage("leaks"), work, "leaks"))
    {
        await run.RunAsync(stack);
    }

    var scale = new List<ScalePoint>();
    foreach (var n in options["--scale"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
    {
        if (options["--storage"] != "sqlite")
        {
            Log("scale pass skipped: it needs a fresh store per size (sqlite only)");
            break;
        }
        await using var stack = await Stack.StartAsync(junction, Storage($"scale-{n}"), work, $"scale-{n}");
        scale.Add(await ScaleRun.RunAsync(stack, n, Int("--seed"), Log));
    }

    Report.Print(run, scale);
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
{
    Console.Error.WriteLine($"FAILED: {ex.Message}");
    return 1;
}
