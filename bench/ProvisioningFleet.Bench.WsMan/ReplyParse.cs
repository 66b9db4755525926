using System.Diagnostics;
using ProvisioningFleet.WsMan.Cim;
using ProvisioningFleet.WsMan.Protocol;

namespace ProvisioningFleet.Bench.WsMan;

/// <summary>
/// Bytes allocated and time per parse of captured Windows replies, the reply reader alone: no HTTP, no
/// simulator, one thread, so <see cref="GC.GetAllocatedBytesForCurrentThread"/> counts nothing else.
/// </summary>
internal static class ReplyParse
{
    public static int Run(int iterations)
    {
        Console.WriteLine($"parse iterations={iterations} cores={Environment.ProcessorCount} {InvokeThroughput.LoadAverage()}");
        Measure("invoke-getstringvalue.xml", iterations, static reply => WsManReply.ReadInvoke(reply, "GetStringValue"));
        Measure("identify.xml", iterations, static reply => WsManReply.ReadIdentify(reply));
        Measure("enumerate-win32_process.xml", iterations, static reply => WsManReply.ReadEnumeration(reply, null));
        Measure("fault-invalid-namespace.xml", iterations, static reply =>
        {
            try
            {
                return WsManReply.ReadInvoke(reply, "GetStringValue");
            }
            catch (CimException e)
            {
                return e;
            }
        });
        return 0;
    }

    private static void Measure(string fixture, int iterations, Func<ReadOnlyMemory<byte>, object> parse)
    {
        var reply = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture));
        for (var i = 0; i < Math.Min(iterations, 10_000); i++)
        {
            GC.KeepAlive(parse(reply));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            GC.KeepAlive(parse(reply));
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Console.WriteLine($"{fixture,-30} {reply.Length,6} B reply  allocated/parse={allocated / iterations}B  time/parse={elapsed.TotalMicroseconds / iterations:0.00}us");
    }
}
